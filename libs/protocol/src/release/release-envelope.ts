import { sign, verify, type KeyObject } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { decodeBase64, DsseEnvelope, paeEncode } from './dsse';
import { ReleaseError } from './release-error';
import { keyIdOf, parsePrivateKey, trustedKeyFromPem, type TrustedKey } from './release-keys';
import {
  FLEET_PAYLOAD_TYPE,
  KeySetDocument,
  LEGACY_RELEASE_PAYLOAD_TYPE,
  ReleaseDocument,
  RevocationDocument,
  UnpinDocument,
  type FleetDocumentKind,
  type FleetPayload,
} from './fleet-documents';

export interface Signer {
  /** PKCS#8 PEM (or KeyObject) of the Ed25519 signing key. */
  privateKeyPem: string | KeyObject;
  /** Defaults to `keyIdOf(privateKey)`, which is what modules compute from their trusted keys. */
  keyid?: string;
}

/** Signs a fleet document as a DSSE v1 envelope; refuses (BAD_PAYLOAD) a payload that modules would refuse. */
export function signEnvelope(payload: FleetPayload, signer: Signer): DsseEnvelope {
  assertFleetPayload(payload);
  const privateKey = parsePrivateKey(signer.privateKeyPem);
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const sig = sign(null, paeEncode(FLEET_PAYLOAD_TYPE, body), privateKey);
  return {
    payloadType: FLEET_PAYLOAD_TYPE,
    payload: body.toString('base64'),
    signatures: [{ keyid: signer.keyid ?? keyIdOf(privateKey), sig: sig.toString('base64') }],
  };
}

/**
 * Verifies a fleet document envelope (parsed JSON, or the raw text/bytes of an MQTT message) against the
 * trusted keys and returns its payload. A signature counts when a trusted key verifies it; the
 * keyid only picks which keys to try (an empty keyid tries them all). Throws a ReleaseError:
 * MALFORMED, UNSIGNED, UNTRUSTED_KEY (no signature from a trusted key), BAD_SIGNATURE (a trusted
 * key's signature that does not verify) or BAD_PAYLOAD (verified, but not a valid fleet document,
 * including the old single-app release payloadType). Binding (channel, module) and replay (the
 * sequence floor) are the caller's checks: `ReleaseDecision` makes them.
 */
export function verifyEnvelope(
  envelope: unknown,
  trustedKeys: ReadonlyArray<TrustedKey | string>,
): FleetPayload {
  const parsed = parseEnvelope(envelope);
  if (parsed.signatures.length === 0)
    throw new ReleaseError('UNSIGNED', 'the release envelope is not signed');
  const body = decodeBase64(parsed.payload);
  if (body === null) throw new ReleaseError('MALFORMED', 'the envelope payload is not base64');
  const keys = trustedKeys.map((k) => (typeof k === 'string' ? trustedKeyFromPem(k) : k));
  const pae = paeEncode(parsed.payloadType, body);

  let triedTrustedKey = false;
  let verified = false;
  for (const signature of parsed.signatures) {
    const candidates = signature.keyid === '' ? keys : keys.filter((k) => k.keyid === signature.keyid);
    const sig = decodeBase64(signature.sig);
    if (candidates.length === 0 || sig === null) continue;
    triedTrustedKey = true;
    if (candidates.some((k) => verify(null, pae, k.publicKey, sig))) {
      verified = true;
      break;
    }
  }
  if (!verified) {
    const keyids = parsed.signatures.map((s) => s.keyid);
    throw triedTrustedKey
      ? new ReleaseError('BAD_SIGNATURE', 'the release signature does not verify', { keyids })
      : new ReleaseError(
          'UNTRUSTED_KEY',
          `the release is signed by an untrusted key (${keyids.join(', ')})`,
          {
            keyids,
          },
        );
  }

  if (parsed.payloadType !== FLEET_PAYLOAD_TYPE) {
    const legacy = parsed.payloadType === LEGACY_RELEASE_PAYLOAD_TYPE;
    throw new ReleaseError(
      'BAD_PAYLOAD',
      legacy
        ? `the old single-app release type ${parsed.payloadType} is no longer accepted; sign a fleet document`
        : `unexpected payloadType ${parsed.payloadType}`,
      { payloadType: parsed.payloadType },
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ReleaseError('BAD_PAYLOAD', 'the document payload is not JSON');
  }
  assertFleetPayload(payload);
  return payload;
}

/** Decodes a payload without verifying it, e.g. to show what a refused envelope claimed. */
export function decodeEnvelopePayload(envelope: unknown): unknown {
  const body = decodeBase64(parseEnvelope(envelope).payload);
  if (body === null) throw new ReleaseError('MALFORMED', 'the envelope payload is not base64');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ReleaseError('BAD_PAYLOAD', 'the document payload is not JSON');
  }
}

function parseEnvelope(envelope: unknown): DsseEnvelope {
  let value = envelope;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    try {
      value = JSON.parse(Buffer.from(value).toString('utf8'));
    } catch {
      throw new ReleaseError('MALFORMED', 'the release envelope is not JSON');
    }
  }
  if (!Value.Check(DsseEnvelope, value)) {
    const first = Value.Errors(DsseEnvelope, value).First();
    throw new ReleaseError(
      'MALFORMED',
      `not a DSSE envelope${first ? `: ${first.path || '/'} ${first.message}` : ''}`,
    );
  }
  return value;
}

const SCHEMAS = {
  release: ReleaseDocument,
  unpin: UnpinDocument,
  revocation: RevocationDocument,
  'key-set': KeySetDocument,
} as const;

/** Checks a payload against the schema of its `kind`, so the errors name the wrong field. */
export function assertFleetPayload(payload: unknown): asserts payload is FleetPayload {
  const kind = (payload as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(SCHEMAS, kind)) {
    throw new ReleaseError(
      'BAD_PAYLOAD',
      `the payload's kind ${JSON.stringify(kind)} is not one of ${Object.keys(SCHEMAS).join(', ')}`,
    );
  }
  const schema = SCHEMAS[kind as FleetDocumentKind];
  if (!Value.Check(schema, payload)) {
    const errors = [...Value.Errors(schema, payload)].map((e) => `${e.path || '/'} ${e.message}`);
    throw new ReleaseError('BAD_PAYLOAD', `invalid ${kind} document: ${errors.slice(0, 3).join('; ')}`, {
      errors,
    });
  }
}
