import { generateReleaseKeyPair, type FleetPayload } from '@growoff/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdaterEvent } from '../src/updater';
import { UpdaterHarness } from './support/harness';

/**
 * Fleet documents against a real updater, Mosquitto, engine, registry and ECR stand-in: replays and
 * misbound documents are refused before anything is pulled; an unpin sent while the module is
 * offline takes effect when it comes back; a revoked running image rolls back; key rotation.
 */
describe('fleet documents on a real updater', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let v1: string;
  let v2: string;
  let rc: string;
  let old: string;
  let stray: string;
  const events: UpdaterEvent[] = [];
  const now = () => new Date().toISOString();

  async function start(): Promise<void> {
    const updater = await h.startUpdater();
    updater.onEvent((e) => events.push(e));
  }

  async function engineDigests(): Promise<string[]> {
    return (await h.docker.listImages()).flatMap((i) => i.RepoDigests ?? []);
  }

  const downloadsOf = (image: string) =>
    events.filter((e) => e.type === 'download.started' && e.data?.image === image);

  beforeAll(async () => {
    h = await UpdaterHarness.create();
    v1 = h.images.build({ version: '1.0.0' });
    v2 = h.images.build({ version: '1.1.0' });
    rc = h.images.build({ version: '2.0.0-rc.1' });
    old = h.images.build({ version: '0.9.0' });
    stray = h.images.build({ version: '6.6.6' });
    await start();
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('installs a channel release and remembers it as good once it passes probation', async () => {
    const passed = h.nextEvent('probation.passed');
    await h.publish(v1, '1.0.0');
    await passed;
    expect(await h.coreHealth()).toBe('1.0.0');
    expect(h.updater!.journal.snapshot.goodReleases.core).toEqual([{ version: '1.0.0', image: v1 }]);
  });

  it('refuses an old channel envelope, another module’s pin and a beta envelope offered as a pin, pulling nothing', async () => {
    // Signed by the trusted key before v1's release: a genuine old envelope, replayed now.
    const replay = h.sign(h.payload(old, '0.9.0', { sequence: 1 }));
    const otherPin = h.payload(stray, '6.6.6', { module: `${h.moduleId}-other` }, 'pin');
    const beta = h.payload(stray, '6.6.6', { channel: 'beta' });
    const cases: Array<[string, 'channel' | 'pin', string]> = [
      [replay, 'channel', 'REPLAYED'],
      [h.sign(otherPin), 'pin', 'WRONG_MODULE'],
      [h.sign(beta), 'pin', 'WRONG_TARGET'],
    ];
    for (const [text, slot, code] of cases) {
      const refused = h.nextEvent('release.rejected', (e) => e.data?.source === slot);
      await h.publishRaw(text, slot);
      expect((await refused).data).toMatchObject({ source: slot, code });
    }
    await h.updater!.check();
    expect(downloadsOf(old)).toEqual([]);
    expect(downloadsOf(stray)).toEqual([]);
    const digests = await engineDigests();
    expect(digests).not.toContain(old);
    expect(digests).not.toContain(stray);
    expect(h.updater!.status()).toMatchObject({ current: { image: v1 }, release: { source: 'channel' } });
    expect(await h.coreContainers()).toEqual([expect.objectContaining({ running: true, image: v1 })]);
  });

  it('takes an unpin sent while the updater was stopped when it comes back', async () => {
    const pinned = h.nextEvent('install.committed', (e) => e.data?.image === rc);
    await h.publish(rc, '2.0.0-rc.1', { name: 'v2.0.0-rc1' }, 'pin');
    await pinned;
    expect(h.updater!.status().release).toMatchObject({ source: 'pin', name: 'v2.0.0-rc1' });
    await h.stopUpdater();

    await h.unpin();
    await start();
    const back = h.nextEvent('install.committed', (e) => e.data?.image === v1);
    await back;
    expect(h.updater!.status().release).toMatchObject({ source: 'channel', name: 'v1.0.0' });
    expect(events.some((e) => e.type === 'release.cleared' && e.data?.source === 'pin')).toBe(true);
    expect(await h.coreHealth()).toBe('1.0.0');
  });

  it('rolls a running revoked image back to the last good release that is not revoked, and refuses it afterwards', async () => {
    const committed = h.nextEvent('install.committed', (e) => e.data?.image === v2);
    await h.publish(v2, '1.1.0');
    await committed;
    expect(await h.coreHealth()).toBe('1.1.0');

    const rollback = h.nextEvent('release.rollback_revoked');
    const restored = h.nextEvent('install.committed', (e) => e.data?.image === v1);
    const revocation: FleetPayload = {
      kind: 'revocation',
      sequence: h.nextSequence(),
      issuedAt: now(),
      revoked: [
        { image: v2, name: 'v1.1.0', reason: 'test: bad release' },
        { image: rc.split('@')[1]!, name: 'v2.0.0-rc1', reason: 'test: bad candidate' },
      ],
    };
    await h.publishDocument(revocation, 'revocations');
    expect((await rollback).data).toMatchObject({ image: v2, to: v1 });
    await restored;
    expect(await h.coreHealth()).toBe('1.0.0');
    expect(h.updater!.status().release?.revokedApps).toEqual(['core']);

    // A pin naming the revoked image is refused, and nothing pulls or runs it again.
    const downloadsBefore = downloadsOf(v2).length;
    const refused = h.nextEvent('release.rejected', (e) => e.data?.source === 'pin');
    await h.publish(v2, '1.1.0', {}, 'pin');
    expect((await refused).data).toMatchObject({ code: 'REVOKED' });
    await h.updater!.check();
    expect(downloadsOf(v2)).toHaveLength(downloadsBefore);
    expect(await h.coreContainers()).toEqual([expect.objectContaining({ running: true, image: v1 })]);

    // Across a restart too: the revocation is in the journal.
    await h.stopUpdater();
    await start();
    await h.updater!.check();
    expect(await h.coreContainers()).toEqual([expect.objectContaining({ running: true, image: v1 })]);
    expect(h.updater!.journal.load().revoked.map((r) => r.image)).toContain(v2);
  });

  it('trusts the keys of a key-set signed by a current key, and refuses one signed by an untrusted key', async () => {
    const intruder = generateReleaseKeyPair();
    const keySet = (pair: typeof intruder): FleetPayload => ({
      kind: 'key-set',
      sequence: h.nextSequence(),
      issuedAt: now(),
      keys: [pair.publicKeyPem],
    });
    const refused = h.nextEvent('release.rejected', (e) => e.data?.source === 'keys');
    await h.publishDocument(keySet(intruder), 'keys', intruder);
    expect((await refused).data).toMatchObject({ code: 'UNTRUSTED_KEY' });

    const next = generateReleaseKeyPair();
    const rotated = h.nextEvent('keys.rotated');
    await h.publishDocument(keySet(next), 'keys');
    expect((await rotated).data).toMatchObject({ keyids: [next.keyid] });

    // The old key is no longer trusted; the new one is, also after a restart (kept in the journal).
    const oldKeyRefused = h.nextEvent('release.rejected', (e) => e.data?.source === 'channel');
    await h.publish(v1, '1.0.0', { name: 'v1.0.1' });
    expect((await oldKeyRefused).data).toMatchObject({ code: 'UNTRUSTED_KEY' });
    await h.stopUpdater();
    await start();
    const accepted = h.nextEvent('release.accepted', (e) => e.data?.source === 'channel');
    await h.publishDocument(h.payload(v1, '1.0.0', { name: 'v1.0.2' }), 'channel', next);
    expect((await accepted).data).toMatchObject({ name: 'v1.0.2', image: v1 });
  });
});
