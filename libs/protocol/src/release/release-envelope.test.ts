import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paeEncode } from './dsse';
import { decodeEnvelopePayload, signEnvelope, verifyEnvelope } from './release-envelope';
import { ReleaseError, type ReleaseErrorCode } from './release-error';
import { generateReleaseKeyPair, keyIdOf, loadTrustedKeys, trustedKeyFromPem } from './release-keys';
import { RELEASE_PAYLOAD_TYPE, type ReleasePayload } from './release-payload';

const DIGEST = 'a'.repeat(64);
const payload: ReleasePayload = {
  app: 'core',
  version: '1.2.3',
  image: `127.0.0.1:15000/growoff/core@sha256:${DIGEST}`,
  channel: 'stable',
  sequence: 7,
  issuedAt: '2026-11-27T03:00:00.000Z',
  rollout: { percent: 25 },
};

const keys = generateReleaseKeyPair();
const other = generateReleaseKeyPair();

function codeOf(fn: () => unknown): ReleaseErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ReleaseError) return error.code;
    throw error;
  }
  return undefined;
}

describe('signEnvelope / verifyEnvelope', () => {
  it('round-trips a release signed with a trusted key', () => {
    const envelope = signEnvelope(payload, keys);
    expect(envelope.payloadType).toBe(RELEASE_PAYLOAD_TYPE);
    expect(envelope.signatures).toEqual([{ keyid: keys.keyid, sig: expect.any(String) }]);
    expect(verifyEnvelope(envelope, [keys.publicKeyPem])).toEqual(payload);
  });

  it('verifies the raw JSON text of an MQTT message', () => {
    const raw = Buffer.from(JSON.stringify(signEnvelope(payload, keys)));
    expect(verifyEnvelope(raw, [trustedKeyFromPem(keys.publicKeyPem)]).sequence).toBe(7);
  });

  it('signs over the DSSE pre-authentication encoding with Ed25519', () => {
    const envelope = signEnvelope(payload, keys);
    const pae = paeEncode(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
    const sig = Buffer.from(envelope.signatures[0]!.sig, 'base64');
    expect(verify(null, pae, trustedKeyFromPem(keys.publicKeyPem).publicKey, sig)).toBe(true);
  });

  it('accepts any of several trusted keys (rotation)', () => {
    const envelope = signEnvelope(payload, other);
    expect(verifyEnvelope(envelope, [keys.publicKeyPem, other.publicKeyPem]).version).toBe('1.2.3');
  });

  it('refuses a tampered payload as BAD_SIGNATURE', () => {
    const envelope = signEnvelope(payload, keys);
    const tampered = { ...payload, image: `evil.example/core@sha256:${'b'.repeat(64)}` };
    const forged = { ...envelope, payload: Buffer.from(JSON.stringify(tampered)).toString('base64') };
    expect(codeOf(() => verifyEnvelope(forged, [keys.publicKeyPem]))).toBe('BAD_SIGNATURE');
  });

  it('refuses a changed payloadType as BAD_SIGNATURE, since the type is signed too', () => {
    const envelope = { ...signEnvelope(payload, keys), payloadType: 'application/json' };
    expect(codeOf(() => verifyEnvelope(envelope, [keys.publicKeyPem]))).toBe('BAD_SIGNATURE');
  });

  it('refuses a signature from an untrusted key as UNTRUSTED_KEY', () => {
    const envelope = signEnvelope(payload, other);
    expect(codeOf(() => verifyEnvelope(envelope, [keys.publicKeyPem]))).toBe('UNTRUSTED_KEY');
  });

  it("refuses a wrong key's signature claiming a trusted keyid as BAD_SIGNATURE", () => {
    const envelope = signEnvelope(payload, { privateKeyPem: other.privateKeyPem, keyid: keys.keyid });
    expect(codeOf(() => verifyEnvelope(envelope, [keys.publicKeyPem]))).toBe('BAD_SIGNATURE');
  });

  it('refuses an unsigned envelope as UNSIGNED', () => {
    const envelope = { ...signEnvelope(payload, keys), signatures: [] };
    expect(codeOf(() => verifyEnvelope(envelope, [keys.publicKeyPem]))).toBe('UNSIGNED');
  });

  it('refuses envelopes that are not DSSE as MALFORMED', () => {
    const trusted = [keys.publicKeyPem];
    expect(codeOf(() => verifyEnvelope('{not json', trusted))).toBe('MALFORMED');
    expect(codeOf(() => verifyEnvelope({ payload: 'e30=' }, trusted))).toBe('MALFORMED');
    expect(codeOf(() => verifyEnvelope(payload, trusted))).toBe('MALFORMED');
    const envelope = signEnvelope(payload, keys);
    expect(codeOf(() => verifyEnvelope({ ...envelope, payload: '!!' }, trusted))).toBe('MALFORMED');
  });

  it('refuses a correctly signed payload that is not a valid release as BAD_PAYLOAD', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const body = Buffer.from(JSON.stringify({ ...payload, image: 'growoff/core:latest' }));
    const sig = sign(null, paeEncode(RELEASE_PAYLOAD_TYPE, body), privateKey).toString('base64');
    const envelope = {
      payloadType: RELEASE_PAYLOAD_TYPE,
      payload: body.toString('base64'),
      signatures: [{ keyid: keyIdOf(publicKey), sig }],
    };
    const trusted = [trustedKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())];
    expect(codeOf(() => verifyEnvelope(envelope, trusted))).toBe('BAD_PAYLOAD');
    expect(decodeEnvelopePayload(envelope)).toMatchObject({ image: 'growoff/core:latest' });
  });

  it('refuses to sign a payload modules would refuse', () => {
    expect(codeOf(() => signEnvelope({ ...payload, sequence: 1.5 }, keys))).toBe('BAD_PAYLOAD');
    expect(codeOf(() => signEnvelope({ ...payload, rollout: { percent: 101 } }, keys))).toBe('BAD_PAYLOAD');
    expect(codeOf(() => signEnvelope({ ...payload, channel: 'a/b' }, keys))).toBe('BAD_PAYLOAD');
  });
});

describe('keys', () => {
  it('derives the same keyid from the public and the private key', () => {
    expect(keyIdOf(keys.publicKeyPem)).toBe(keys.keyid);
    expect(keyIdOf(keys.privateKeyPem)).toBe(keys.keyid);
    expect(keys.keyid).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loads several keys from one file and from a folder, without duplicates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'growoff-keys-'));
    const file = join(dir, 'trusted.pem');
    writeFileSync(file, `${keys.publicKeyPem}\n${other.publicKeyPem}`);
    writeFileSync(join(dir, 'old.pub'), keys.publicKeyPem);
    writeFileSync(join(dir, 'README'), 'not a key');
    expect(loadTrustedKeys(file).map((k) => k.keyid)).toEqual([keys.keyid, other.keyid]);
    expect(
      loadTrustedKeys(dir)
        .map((k) => k.keyid)
        .sort(),
    ).toEqual([keys.keyid, other.keyid].sort());
  });

  it('refuses a missing path or one without keys as NO_TRUSTED_KEYS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'growoff-keys-'));
    expect(codeOf(() => loadTrustedKeys(join(dir, 'missing.pem')))).toBe('NO_TRUSTED_KEYS');
    expect(codeOf(() => loadTrustedKeys(dir))).toBe('NO_TRUSTED_KEYS');
  });

  it('refuses a non-Ed25519 key as BAD_KEY', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(codeOf(() => trustedKeyFromPem(pem))).toBe('BAD_KEY');
    expect(codeOf(() => signEnvelope(payload, { privateKeyPem: 'garbage' }))).toBe('BAD_KEY');
  });
});
