import { createHash, timingSafeEqual } from 'node:crypto';

/** `SHA256:` and the unpadded base64 of a 32-byte digest, as `ssh-keygen -l -E sha256` prints it. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The OpenSSH fingerprint of a public key in SSH wire format (the blob a server sends). */
export function opensshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Whether the server's key blob is the pinned one. */
export function matchesPinnedFingerprint(keyBlob: Buffer, pinned: string): boolean {
  const actual = Buffer.from(opensshFingerprint(keyBlob));
  const expected = Buffer.from(pinned);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
