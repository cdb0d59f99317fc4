import { createHash, timingSafeEqual } from 'node:crypto';

/** `SHA256:` and the unpadded base64 of a 32-byte digest, as `ssh-keygen -l -E sha256` prints it. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The OpenSSH fingerprint of a public key in SSH wire format (the blob a server sends). */
export function opensshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Whether the server's key blob is one of the pinned ones. Several pins let a bastion's host key be
 * rotated without a flag day: pin the new key beside the old, then switch the bastion, then drop the old.
 */
export function matchesPinnedFingerprint(keyBlob: Buffer, pinned: readonly string[]): boolean {
  const actual = Buffer.from(opensshFingerprint(keyBlob));
  let matched = false;
  for (const pin of pinned) {
    const expected = Buffer.from(pin);
    // Every pin is compared, in constant time each, whether or not an earlier one matched.
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) matched = true;
  }
  return matched;
}
