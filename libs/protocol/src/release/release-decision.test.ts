import { describe, expect, it } from 'vitest';
import type { FleetPayload, ReleaseApps, ReleaseDocument } from './fleet-documents';
import { signEnvelope } from './release-envelope';
import { generateReleaseKeyPair, trustedKeyFromPem, type ReleaseKeyPair } from './release-keys';
import {
  MemoryDecisionStore,
  ReleaseDecision,
  type DecisionVerdict,
  type ReleaseDecisionOptions,
} from './release-decision';

const REPO = '127.0.0.1:15000/growoff/core';
const TELEGRAF_REPO = '127.0.0.1:15000/growoff/telegraf';
const ISSUED = '2026-11-30T12:00:00.000Z';
const keys = generateReleaseKeyPair();
const image = (n: number, repo = REPO) => `${repo}@sha256:${n.toString(16).padStart(64, '0')}`;
const core = (n: number): ReleaseApps => ({ core: { version: `1.0.${n}`, image: image(n) } });

function channelRelease(sequence: number, n: number, over: Partial<ReleaseDocument> = {}): ReleaseDocument {
  return {
    kind: 'release',
    sequence,
    issuedAt: ISSUED,
    name: `v1.0.${n}`,
    apps: core(n),
    target: { channel: 'stable', rollout: { percent: 100 } },
    ...over,
  };
}
const pin = (sequence: number, n: number, module = 'cab-1') =>
  channelRelease(sequence, n, { target: { module } });
const unpin = (sequence: number, module = 'cab-1'): FleetPayload => ({
  kind: 'unpin',
  sequence,
  issuedAt: ISSUED,
  module,
});
const revocation = (sequence: number, ...images: string[]): FleetPayload => ({
  kind: 'revocation',
  sequence,
  issuedAt: ISSUED,
  revoked: images.map((i) => ({ image: i, name: 'v1.0.x', reason: 'test' })),
});
const keySet = (sequence: number, ...pairs: ReleaseKeyPair[]): FleetPayload => ({
  kind: 'key-set',
  sequence,
  issuedAt: ISSUED,
  keys: pairs.map((p) => p.publicKeyPem),
});

const signed = (doc: FleetPayload, by: ReleaseKeyPair = keys) =>
  Buffer.from(JSON.stringify(signEnvelope(doc, by)));

function decision(over: Partial<ReleaseDecisionOptions> = {}): ReleaseDecision {
  return new ReleaseDecision({
    moduleId: 'cab-1',
    channel: 'stable',
    trustedKeys: [trustedKeyFromPem(keys.publicKeyPem)],
    imageRepos: { core: REPO, telegraf: TELEGRAF_REPO },
    ...over,
  });
}

const code = (v: DecisionVerdict) => (v.kind === 'rejected' ? v.code : v.kind);

describe('ReleaseDecision: binding', () => {
  it("accepts a release for the module's channel and targets its apps", () => {
    const d = decision();
    expect(code(d.offer('channel', signed(channelRelease(5, 1))))).toBe('accepted');
    expect(d.targets()).toMatchObject({ source: 'channel', apps: core(1), release: { name: 'v1.0.1' } });
  });

  it('refuses a release for another channel as WRONG_CHANNEL and keeps the accepted one', () => {
    const d = decision();
    d.offer('channel', signed(channelRelease(5, 1)));
    const beta = channelRelease(6, 2, { target: { channel: 'beta', rollout: { percent: 100 } } });
    expect(code(d.offer('channel', signed(beta)))).toBe('WRONG_CHANNEL');
    expect(d.targets().apps).toEqual(core(1));
    expect(d.snapshot.slots.channel?.sequence).toBe(5);
  });

  it('refuses a pin on the channel topic and a channel release (even a beta one) on the pin topic as WRONG_TARGET', () => {
    const d = decision();
    expect(code(d.offer('channel', signed(pin(5, 1))))).toBe('WRONG_TARGET');
    expect(code(d.offer('pin', signed(channelRelease(6, 2))))).toBe('WRONG_TARGET');
    const beta = channelRelease(7, 3, { target: { channel: 'beta', rollout: { percent: 100 } } });
    expect(code(d.offer('pin', signed(beta)))).toBe('WRONG_TARGET');
    expect(code(d.offer('channel', signed(unpin(8))))).toBe('WRONG_TARGET');
    expect(d.targets()).toEqual({ source: null, apps: {} });
    expect(d.snapshot.slots).toEqual({});
  });

  it("refuses another module's pin and unpin as WRONG_MODULE", () => {
    const d = decision();
    expect(code(d.offer('pin', signed(pin(5, 1))))).toBe('accepted');
    expect(code(d.offer('pin', signed(pin(6, 2, 'cab-2'))))).toBe('WRONG_MODULE');
    expect(code(d.offer('pin', signed(unpin(7, 'cab-2'))))).toBe('WRONG_MODULE');
    expect(d.targets()).toMatchObject({ source: 'pin', apps: core(1) });
  });

  it('refuses revocations and key-sets on the release topics, and releases on theirs, as WRONG_TARGET', () => {
    const d = decision();
    expect(code(d.offer('pin', signed(revocation(5, image(1)))))).toBe('WRONG_TARGET');
    expect(code(d.offer('channel', signed(keySet(5, keys))))).toBe('WRONG_TARGET');
    expect(code(d.offer('revocations', signed(channelRelease(5, 1))))).toBe('WRONG_TARGET');
    expect(code(d.offer('keys', signed(revocation(5, image(1)))))).toBe('WRONG_TARGET');
    expect(d.snapshot.revoked).toEqual([]);
  });

  it('refuses an image outside the configured repository as IMAGE_REPO_MISMATCH', () => {
    const d = decision();
    const evil = channelRelease(5, 1, {
      apps: { core: { version: '6.6.6', image: image(6, 'evil.example/core') } },
    });
    expect(code(d.offer('channel', signed(evil)))).toBe('IMAGE_REPO_MISMATCH');
    expect(d.targets().apps).toEqual({});
  });

  it('refuses unsigned, untrusted and malformed envelopes with their codes', () => {
    const d = decision();
    expect(code(d.offer('channel', signed(channelRelease(5, 1), generateReleaseKeyPair())))).toBe(
      'UNTRUSTED_KEY',
    );
    expect(code(d.offer('channel', '{not json'))).toBe('MALFORMED');
    const envelope = { ...signEnvelope(channelRelease(5, 1), keys), signatures: [] };
    expect(code(d.offer('channel', JSON.stringify(envelope)))).toBe('UNSIGNED');
    expect(d.snapshot.slots).toEqual({});
  });
});

describe('ReleaseDecision: pin, unpin, rollout and apps', () => {
  it('lets the pin override the channel and an unpin give the channel back', () => {
    const d = decision();
    d.offer('channel', signed(channelRelease(5, 1)));
    expect(code(d.offer('pin', signed(pin(6, 2))))).toBe('accepted');
    expect(d.targets()).toMatchObject({ source: 'pin', apps: core(2) });
    expect(code(d.offer('pin', signed(unpin(7))))).toBe('accepted');
    expect(d.targets()).toMatchObject({ source: 'channel', apps: core(1) });
    // The pin it undid can never come back: its sequence is below the unpin's.
    expect(code(d.offer('pin', signed(pin(6, 2))))).toBe('REPLAYED');
    expect(d.targets()).toMatchObject({ source: 'channel', apps: core(1) });
  });

  it('ignores the empty retained message (the old unsigned unpin): the pin stays', () => {
    const d = decision();
    d.offer('pin', signed(pin(6, 2)));
    expect(code(d.offer('pin', Buffer.alloc(0)))).toBe('unchanged');
    expect(d.targets()).toMatchObject({ source: 'pin', apps: core(2) });
  });

  it('takes a channel release only inside its rollout percent', () => {
    const d = decision({ moduleId: 'module-1' }); // bucket 18 of 10000
    const narrow = channelRelease(5, 1, { target: { channel: 'stable', rollout: { percent: 0.2 } } });
    expect(code(d.offer('channel', signed(narrow)))).toBe('accepted');
    expect(d.targets()).toMatchObject({ source: 'channel', apps: core(1) });
    const zero = channelRelease(6, 2, { target: { channel: 'stable', rollout: { percent: 0 } } });
    d.offer('channel', signed(zero));
    expect(d.targets()).toEqual({ source: null, apps: {}, outsideRollout: { percent: 0 } });
  });

  it('leaves apps a release does not name alone (a Telegraf-only release has no core target)', () => {
    const d = decision();
    const telegraf = { telegraf: { version: '1.30.0', image: image(9, TELEGRAF_REPO) } };
    d.offer('channel', signed(channelRelease(5, 1, { apps: telegraf })));
    expect(d.targets().apps).toEqual(telegraf);
  });
});

describe('ReleaseDecision: replay floor', () => {
  it('refuses an older or a different same-sequence document as REPLAYED, and the identical one is unchanged', () => {
    const d = decision();
    d.offer('channel', signed(channelRelease(5, 1)));
    expect(code(d.offer('channel', signed(channelRelease(5, 1))))).toBe('unchanged');
    expect(code(d.offer('channel', signed(channelRelease(4, 0))))).toBe('REPLAYED');
    expect(code(d.offer('channel', signed(channelRelease(5, 3))))).toBe('REPLAYED');
    expect(d.targets().apps).toEqual(core(1));
  });

  it('keeps a sequence per slot, since retained topics arrive in any order', () => {
    const d = decision();
    expect(code(d.offer('channel', signed(channelRelease(9, 1))))).toBe('accepted');
    expect(code(d.offer('revocations', signed(revocation(4, image(77)))))).toBe('accepted');
    expect(code(d.offer('pin', signed(pin(3, 2))))).toBe('accepted');
  });

  it('makes a new module with an installer floor refuse an older signed release, and accept one from the floor on', () => {
    const d = decision({ installFloor: 40 });
    expect(code(d.offer('channel', signed(channelRelease(39, 1))))).toBe('REPLAYED');
    expect(code(d.offer('pin', signed(pin(12, 1))))).toBe('REPLAYED');
    expect(code(d.offer('revocations', signed(revocation(5))))).toBe('REPLAYED');
    expect(d.targets().apps).toEqual({});
    expect(code(d.offer('channel', signed(channelRelease(40, 2))))).toBe('accepted');
    expect(d.targets().apps).toEqual(core(2));
  });

  it('raises the floor from the installer but never lowers it', () => {
    const store = new MemoryDecisionStore();
    expect(decision({ store, installFloor: 50 }).floor).toBe(50);
    expect(store.load()?.floor).toBe(50);
    expect(decision({ store, installFloor: 10 }).floor).toBe(50);
    expect(decision({ store }).floor).toBe(50);
  });

  it('keeps what it accepted across a restart (the pin, the floor per slot) through its store', () => {
    const store = new MemoryDecisionStore();
    const first = decision({ store });
    first.offer('channel', signed(channelRelease(5, 1)));
    first.offer('pin', signed(pin(6, 2)));
    const again = decision({ store });
    expect(again.targets()).toMatchObject({ source: 'pin', apps: core(2) });
    expect(code(again.offer('pin', signed(pin(6, 2))))).toBe('unchanged');
    expect(code(again.offer('channel', signed(channelRelease(4, 0))))).toBe('REPLAYED');
    // An unpin sent while the module was offline arrives as the retained message at reconnect.
    expect(code(again.offer('pin', signed(unpin(8))))).toBe('accepted');
    expect(decision({ store }).targets()).toMatchObject({ source: 'channel', apps: core(1) });
  });

  it('forgets a stored channel release when the module moves to another channel', () => {
    const store = new MemoryDecisionStore();
    decision({ store }).offer('channel', signed(channelRelease(9, 1)));
    const moved = decision({ store, channel: 'beta' });
    expect(moved.targets().apps).toEqual({});
    const beta = channelRelease(7, 2, { target: { channel: 'beta', rollout: { percent: 100 } } });
    expect(code(moved.offer('channel', signed(beta)))).toBe('accepted');
  });
});

describe('ReleaseDecision: revocation', () => {
  it('withholds a revoked target, refuses releases naming it as REVOKED, and remembers it across restarts', () => {
    const store = new MemoryDecisionStore();
    const d = decision({ store });
    d.offer('channel', signed(channelRelease(5, 1)));
    expect(code(d.offer('revocations', signed(revocation(6, image(1)))))).toBe('accepted');
    expect(d.isRevoked(image(1))).toBe(true);
    expect(d.targets()).toMatchObject({ source: 'channel', apps: {}, revokedApps: ['core'] });
    expect(code(d.offer('pin', signed(pin(7, 1))))).toBe('REVOKED');
    expect(decision({ store }).isRevoked(image(1))).toBe(true);
  });

  it('matches a bare sha256 digest in any repository', () => {
    const d = decision();
    const digest = image(3).split('@')[1]!;
    d.offer('revocations', signed(revocation(6, digest)));
    expect(d.isRevoked(image(3))).toBe(true);
    expect(d.isRevoked(image(3, TELEGRAF_REPO))).toBe(true);
    expect(d.isRevoked(image(4))).toBe(false);
  });

  it('never un-revokes: a newer list without an image keeps it revoked; an older list is REPLAYED', () => {
    const d = decision();
    d.offer('revocations', signed(revocation(6, image(1))));
    expect(code(d.offer('revocations', signed(revocation(8, image(2)))))).toBe('accepted');
    expect(d.isRevoked(image(1))).toBe(true);
    expect(code(d.offer('revocations', signed(revocation(7))))).toBe('REPLAYED');
    expect(d.snapshot.revoked.map((r) => r.image)).toEqual([image(1), image(2)]);
  });
});

describe('ReleaseDecision: key rotation', () => {
  it('trusts the keys of a key-set signed by a current key, persisted, and only them', () => {
    const store = new MemoryDecisionStore();
    const d = decision({ store });
    const next = generateReleaseKeyPair();
    expect(code(d.offer('keys', signed(keySet(5, next))))).toBe('accepted');
    expect(d.trustedKeys.map((k) => k.keyid)).toEqual([next.keyid]);
    expect(code(d.offer('channel', signed(channelRelease(6, 1), next)))).toBe('accepted');
    expect(code(d.offer('channel', signed(channelRelease(7, 2))))).toBe('UNTRUSTED_KEY');
    const restarted = decision({ store });
    expect(restarted.trustedKeys.map((k) => k.keyid)).toEqual([next.keyid]);
    // The retained key-set, signed by the key it replaced, is still recognised as the accepted one.
    expect(code(restarted.offer('keys', signed(keySet(5, next))))).toBe('unchanged');
  });

  it('refuses a key-set signed by an untrusted key as UNTRUSTED_KEY and keeps the keys', () => {
    const d = decision();
    const intruder = generateReleaseKeyPair();
    expect(code(d.offer('keys', signed(keySet(5, intruder), intruder)))).toBe('UNTRUSTED_KEY');
    expect(d.trustedKeys.map((k) => k.keyid)).toEqual([keys.keyid]);
    expect(code(d.offer('channel', signed(channelRelease(6, 1), intruder)))).toBe('UNTRUSTED_KEY');
  });

  it('refuses a key-set whose key is not Ed25519 as BAD_KEY', () => {
    const d = decision();
    const bad = {
      ...(keySet(5, keys) as object),
      keys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'],
    };
    expect(code(d.offer('keys', signed(bad as FleetPayload)))).toBe('BAD_KEY');
    expect(d.trustedKeys.map((k) => k.keyid)).toEqual([keys.keyid]);
    expect(d.snapshot.slots.keys).toBeUndefined();
  });
});
