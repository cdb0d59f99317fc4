import { Type, type Static } from '@sinclair/typebox';

/** DSSE v1: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md */
export const DsseSignature = Type.Object({
  /** Unauthenticated hint naming the key; ours is `keyIdOf(publicKey)`. */
  keyid: Type.String(),
  /** Base64 of the raw signature over `paeEncode(payloadType, payload)`. */
  sig: Type.String({ minLength: 1 }),
});
export type DsseSignature = Static<typeof DsseSignature>;

export const DsseEnvelope = Type.Object(
  {
    payloadType: Type.String({ minLength: 1 }),
    /** Base64 of the serialized payload (standard or URL-safe alphabet). */
    payload: Type.String(),
    signatures: Type.Array(DsseSignature),
  },
  { $id: 'DsseEnvelope' },
);
export type DsseEnvelope = Static<typeof DsseEnvelope>;

/**
 * DSSE's pre-authentication encoding, the bytes that are actually signed:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimal byte counts.
 */
export function paeEncode(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${payload.length} `, 'utf8'),
    payload,
  ]);
}

const BASE64 = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2})$/;

/** Decodes DSSE base64 (either alphabet), or returns null when the text is not base64. */
export function decodeBase64(text: string): Buffer | null {
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}
