import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paeEncode } from './dsse';
import { decodeEnvelopePayload, signEnvelope, verifyEnvelope } from './release-envelope';
import { ReleaseError, type ReleaseErrorCode } from './release-error';
import { generateReleaseKeyPair, keyIdOf, loadTrustedKeys, trustedKeyFromPem } from './release-keys';
import {
  FLEET_PAYLOAD_TYPE,
  LEGACY_RELEASE_PAYLOAD_TYPE,
  type FleetPayload,
  type ReleaseDocument,
} from './fleet-documents';

const DIGEST = 'a'.repeat(64);
const payload: ReleaseDocument = {
  kind: 'release',
  name: 'v1.2.3',
  apps: { core: { version: '1.2.3', image: `127.0.0.1:15000/growoff/core@sha256:${DIGEST}` } },
  target: { channel: 'stable', rollout: { percent: 25 } },
  sequence: 7,
  issuedAt: '2026-11-27T03:00:00.000Z',
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
    expect(envelope.payloadType).toBe(FLEET_PAYLOAD_TYPE);
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
    expect(verifyEnvelope(envelope, [keys.publicKeyPem, other.publicKeyPem])).toEqual(payload);
  });

  it('refuses a tampered payload as BAD_SIGNATURE', () => {
    const envelope = signEnvelope(payload, keys);
    const tampered = {
      ...payload,
      apps: { core: { version: '1.2.3', image: `evil.example/core@sha256:${'b'.repeat(64)}` } },
    };
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

  function signedRaw(body: unknown, payloadType = FLEET_PAYLOAD_TYPE) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const bytes = Buffer.from(JSON.stringify(body));
    const sig = sign(null, paeEncode(payloadType, bytes), privateKey).toString('base64');
    const envelope = {
      payloadType,
      payload: bytes.toString('base64'),
      signatures: [{ keyid: keyIdOf(publicKey), sig }],
    };
    const trusted = [trustedKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString())];
    return { envelope, trusted };
  }

  it('refuses a correctly signed payload that is not a valid fleet document as BAD_PAYLOAD', () => {
    const tagged = { core: { version: '1.2.3', image: 'growoff/core:latest' } };
    const { envelope, trusted } = signedRaw({ ...payload, apps: tagged });
    expect(codeOf(() => verifyEnvelope(envelope, trusted))).toBe('BAD_PAYLOAD');
    expect(decodeEnvelopePayload(envelope)).toMatchObject({ apps: tagged });
    for (const bad of [
      { ...payload, kind: 'promote' },
      { ...payload, apps: {} },
      { ...payload, name: 'v1.2' },
      { ...payload, name: 'v1.2.3-beta1' },
      { ...payload, target: { module: 'a/b' } },
      { ...payload, target: { channel: 'stable', rollout: { percent: 5 }, module: 'm1' } },
      { kind: 'unpin', sequence: 3, issuedAt: payload.issuedAt },
      {
        kind: 'revocation',
        sequence: 3,
        issuedAt: payload.issuedAt,
        revoked: [{ image: 'core:bad', name: 'v1', reason: 'x' }],
      },
      { kind: 'key-set', sequence: 3, issuedAt: payload.issuedAt, keys: [] },
    ]) {
      const raw = signedRaw(bad);
      expect(
        codeOf(() => verifyEnvelope(raw.envelope, raw.trusted)),
        JSON.stringify(bad),
      ).toBe('BAD_PAYLOAD');
    }
  });

  it('refuses the old single-app release type as BAD_PAYLOAD, even when well signed', () => {
    const old = {
      app: 'core',
      version: '1.2.3',
      image: payload.apps.core!.image,
      channel: 'stable',
      sequence: 9,
      issuedAt: payload.issuedAt,
      rollout: { percent: 100 },
    };
    const { envelope, trusted } = signedRaw(old, LEGACY_RELEASE_PAYLOAD_TYPE);
    expect(codeOf(() => verifyEnvelope(envelope, trusted))).toBe('BAD_PAYLOAD');
  });

  it('signs and verifies each kind of fleet document', () => {
    const issued = { sequence: 11, issuedAt: payload.issuedAt };
    const docs = [
      { kind: 'release', ...issued, name: 'v2.0.0-rc1', apps: payload.apps, target: { module: 'cab-1' } },
      { kind: 'unpin', ...issued, module: 'cab-1' },
      {
        kind: 'revocation',
        ...issued,
        revoked: [{ image: `sha256:${DIGEST}`, name: 'v1.2.3', reason: 'bad pump timing' }],
      },
      { kind: 'key-set', ...issued, keys: [keys.publicKeyPem, other.publicKeyPem] },
    ] satisfies FleetPayload[];
    for (const doc of docs) expect(verifyEnvelope(signEnvelope(doc, keys), [keys.publicKeyPem])).toEqual(doc);
  });

  it('refuses to sign a payload modules would refuse', () => {
    expect(codeOf(() => signEnvelope({ ...payload, sequence: 1.5 }, keys))).toBe('BAD_PAYLOAD');
    expect(
      codeOf(() =>
        signEnvelope({ ...payload, target: { channel: 'stable', rollout: { percent: 101 } } }, keys),
      ),
    ).toBe('BAD_PAYLOAD');
    expect(
      codeOf(() => signEnvelope({ ...payload, target: { channel: 'a/b', rollout: { percent: 1 } } }, keys)),
    ).toBe('BAD_PAYLOAD');
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
