import {
  generateReleaseKeyPair,
  inRollout,
  signEnvelope,
  trustedKeyFromPem,
  type ReleasePayload,
} from '@growoff/protocol';
import { describe, expect, it } from 'vitest';
import { ReleaseDecision } from './release-decision';

const keys = generateReleaseKeyPair();
const trusted = [trustedKeyFromPem(keys.publicKeyPem)];
const image = (n: string) => `registry.example/core@sha256:${n.repeat(64)}`;

function envelope(patch: Partial<ReleasePayload>, signer = keys.privateKeyPem): Buffer {
  const payload: ReleasePayload = {
    app: 'core',
    version: '1.1.0',
    image: image('a'),
    channel: 'stable',
    sequence: 1,
    issuedAt: '2026-11-27T03:00:00Z',
    rollout: { percent: 100 },
    ...patch,
  };
  return Buffer.from(JSON.stringify(signEnvelope(payload, { privateKeyPem: signer })));
}

describe('ReleaseDecision', () => {
  it('takes a channel release only inside its rollout percent', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `m-${i}`);
    const taking = ids.filter((id) => {
      const d = new ReleaseDecision(id, 'stable', trusted);
      d.offer('channel', envelope({ rollout: { percent: 10 } }));
      return d.target() !== null;
    });
    expect(taking).toEqual(ids.filter((id) => inRollout(id, 10)));
  });

  it('prefers the pin over the channel, and follows the channel again when the pin is cleared', () => {
    const d = new ReleaseDecision('m-1', 'stable', trusted);
    d.offer('channel', envelope({}));
    d.offer('pin', envelope({ version: '1.2.0-rc.1', image: image('b'), channel: 'pinned' }));
    expect(d.target()).toEqual({ version: '1.2.0-rc.1', image: image('b'), source: 'pin' });
    expect(d.offer('pin', Buffer.alloc(0))).toEqual({ kind: 'cleared' });
    expect(d.target()?.version).toBe('1.1.0');
  });

  it('refuses a replayed lower sequence, another channel and a foreign key', () => {
    const d = new ReleaseDecision('m-1', 'stable', trusted);
    expect(d.offer('channel', envelope({ sequence: 5 })).kind).toBe('accepted');
    expect(d.offer('channel', envelope({ sequence: 4 }))).toMatchObject({ code: 'REPLAYED' });
    expect(d.offer('channel', envelope({ sequence: 6, channel: 'beta' }))).toMatchObject({
      code: 'WRONG_CHANNEL',
    });
    const other = generateReleaseKeyPair();
    expect(d.offer('channel', envelope({ sequence: 7 }, other.privateKeyPem))).toMatchObject({
      code: 'UNTRUSTED_KEY',
    });
  });
});
