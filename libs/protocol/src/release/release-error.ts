import { CodedError } from '../coded-error';

/**
 * Why a release envelope or a release key was refused. The updater turns these into
 * `release.rejected` events; the fleet CLI prints them as `CODE: message`.
 */
export type ReleaseErrorCode =
  /** The envelope carries no signature at all. */
  | 'UNSIGNED'
  /** A signature names a trusted key but does not verify (tampered payload or forged signature). */
  | 'BAD_SIGNATURE'
  /** No signature was made by any of the trusted keys. */
  | 'UNTRUSTED_KEY'
  /** Not a DSSE v1 envelope: bad JSON, missing fields, bad base64. */
  | 'MALFORMED'
  /** Signed correctly, but the payload is not a valid release (type, JSON or schema). */
  | 'BAD_PAYLOAD'
  /** A PEM key that cannot be parsed or is not Ed25519. */
  | 'BAD_KEY'
  /** No trusted keys: the configured file or folder is missing or holds no public key. */
  | 'NO_TRUSTED_KEYS';

export class ReleaseError extends CodedError<ReleaseErrorCode> {
  override readonly name = 'ReleaseError';
}

export function isReleaseError(value: unknown): value is ReleaseError {
  return value instanceof ReleaseError;
}
