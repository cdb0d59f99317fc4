import {
  generateReleaseKeyPair,
  rolloutBucket,
  signEnvelope,
  trustedKeyFromPem,
  type ReleasePayload,
} from '@growoff/protocol';
import { describe, expect, it } from 'vitest';
import type { AcceptedSequence } from '../journal/update-journal';
import { DesiredRelease } from './desired-release';

const REPO = '127.0.0.1:5000/growoff/core';
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const keys = generateReleaseKeyPair();
const otherKeys = generateReleaseKeyPair();

function payload(over: Partial<ReleasePayload> = {}): ReleasePayload {
  return {
    app: 'core',
    version: '1.0.0',
    image: `${REPO}@${digest(1)}`,
    channel: 'stable',
    sequence: 1,
    issuedAt: '2026-11-27T00:00:00Z',
    rollout: { percent: 100 },
    ...over,
  };
}

const envelope = (p: ReleasePayload, privateKeyPem = keys.privateKeyPem) =>
  JSON.stringify(signEnvelope(p, { privateKeyPem }));

function memoryStore() {
  const map = new Map<string, AcceptedSequence>();
  return {
    sequence: (k: string) => map.get(k),
    setSequence: (k: string, v: AcceptedSequence) => map.set(k, v),
  };
}

function desired(moduleId = 'module-a', sequences = memoryStore()) {
  return new DesiredRelease({
    moduleId,
    channel: 'stable',
    trustedKeys: [trustedKeyFromPem(otherKeys.publicKeyPem), trustedKeyFromPem(keys.publicKeyPem)],
    imageRepos: { core: REPO },
    sequences,
  });
}

describe('DesiredRelease', () => {
  it('takes a signed channel release and targets its image', () => {
    const d = desired();
    expect(d.offer('channel', envelope(payload())).kind).toBe('accepted');
    expect(d.targets()).toMatchObject({ source: 'channel', core: { image: `${REPO}@${digest(1)}` } });
  });

  it('lets a pin override the channel and falls back when the pin is cleared', () => {
    const d = desired();
    d.offer('channel', envelope(payload()));
    d.offer(
      'pin',
      envelope(payload({ version: '2.0.0-rc.1', image: `${REPO}@${digest(2)}`, channel: 'rc' })),
    );
    expect(d.targets()).toMatchObject({ source: 'pin', core: { version: '2.0.0-rc.1' } });
    expect(d.offer('pin', '').kind).toBe('cleared');
    expect(d.targets()).toMatchObject({ source: 'channel', core: { version: '1.0.0' } });
  });

  it.each([
    ['unsigned', () => JSON.stringify({ ...signEnvelope(payload(), keys), signatures: [] }), 'UNSIGNED'],
    [
      'signed by an untrusted key',
      () => envelope(payload(), generateReleaseKeyPair().privateKeyPem),
      'UNTRUSTED_KEY',
    ],
    [
      'tampered',
      () => {
        const env = signEnvelope(payload(), keys);
        const forged = Buffer.from(JSON.stringify(payload({ image: `${REPO}@${digest(9)}` }))).toString(
          'base64',
        );
        return JSON.stringify({ ...env, payload: forged });
      },
      'BAD_SIGNATURE',
    ],
    ['malformed', () => '{"nope":1}', 'MALFORMED'],
    [
      'from a foreign repository',
      () => envelope(payload({ image: `evil.example/core@${digest(1)}` })),
      'IMAGE_REPO_MISMATCH',
    ],
    ['for another channel', () => envelope(payload({ channel: 'beta' })), 'WRONG_CHANNEL'],
  ])('refuses a release that is %s and keeps the target', (_name, make, code) => {
    const d = desired();
    d.offer('channel', envelope(payload({ sequence: 1 })));
    const verdict = d.offer('channel', make());
    expect(verdict).toMatchObject({ kind: 'rejected', code });
    expect(d.targets().core?.image).toBe(`${REPO}@${digest(1)}`);
  });

  it('refuses a replayed lower sequence, also after a restart', () => {
    const store = memoryStore();
    const first = desired('module-a', store);
    first.offer('channel', envelope(payload({ sequence: 5, image: `${REPO}@${digest(5)}` })));
    const restarted = desired('module-a', store);
    expect(restarted.offer('channel', envelope(payload({ sequence: 3 })))).toMatchObject({
      kind: 'rejected',
      code: 'REPLAYED',
    });
    expect(restarted.targets().source).toBeNull();
    expect(
      restarted.offer('channel', envelope(payload({ sequence: 5, image: `${REPO}@${digest(5)}` }))).kind,
    ).toBe('accepted');
  });

  it('treats the same retained release delivered twice as unchanged', () => {
    const d = desired();
    const text = envelope(payload());
    d.offer('channel', text);
    expect(d.offer('channel', text).kind).toBe('unchanged');
  });

  it('honours the rollout percent across many module ids', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `module-${i}`);
    for (const percent of [0, 10, 50, 100]) {
      const signed = envelope(payload({ rollout: { percent } }));
      const taking = ids.filter((id) => {
        const d = desired(id);
        d.offer('channel', signed);
        return d.targets().source === 'channel';
      });
      expect(taking.every((id) => rolloutBucket(id) < percent * 100)).toBe(true);
      expect(taking.length / ids.length).toBeCloseTo(percent / 100, 1);
    }
  });

  it('keeps every module that took a rollout when the rollout widens', () => {
    const ids = Array.from({ length: 300 }, (_, i) => `m-${i}`);
    const takes = (percent: number) => {
      const signed = envelope(payload({ rollout: { percent } }));
      return new Set(
        ids.filter((id) => {
          const d = desired(id);
          d.offer('channel', signed);
          return d.targets().source === 'channel';
        }),
      );
    };
    const narrow = takes(20);
    const wide = takes(60);
    expect([...narrow].every((id) => wide.has(id))).toBe(true);
  });
});
