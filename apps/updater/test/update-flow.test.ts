import { signEnvelope, generateReleaseKeyPair, type ReleaseDocument } from '@growoff/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';

describe('updater against the real engine, registry and ECR stand-in', { timeout: 60_000 }, () => {
  let h: UpdaterHarness;
  let v1: string;
  let v2: string;
  let rc: string;
  let broken: string;
  let crashing: string;

  beforeAll(async () => {
    h = await UpdaterHarness.create();
    v1 = h.images.build({ version: '1.0.0' });
    v2 = h.images.build({ version: '1.1.0' });
    rc = h.images.build({ version: '2.0.0-rc.1' });
    broken = h.images.build({ version: '1.2.0', mode: 'unhealthy' });
    crashing = h.images.build({ version: '1.3.0', mode: 'crash', crashAfterS: 6 });
    await h.startUpdater();
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('installs the first release from a signed channel envelope, pulled by digest', async () => {
    const committed = h.nextEvent('install.committed');
    await h.publish(v1, '1.0.0');
    await committed;
    expect(await h.coreHealth()).toBe('1.0.0');
    const containers = await h.coreContainers();
    expect(containers).toEqual([expect.objectContaining({ running: true, image: v1 })]);
    const host = (await h.docker.getContainer(containers[0]!.id).inspect()).HostConfig;
    expect(host.Devices).toEqual([
      expect.objectContaining({ PathOnHost: '/dev/null', PathInContainer: '/dev/i2c-1' }),
    ]);
    // The core's spec: its data folder and the broker TLS folder, every capability dropped.
    expect(host.Binds).toEqual([
      `${h.dir}/host-data/core:/data`,
      `${h.dir}/secrets/mqtt:/run/secrets/mqtt:ro`,
    ]);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(h.updater!.status()).toMatchObject({
      current: { version: '1.0.0', image: v1 },
      phase: 'probation',
    });
    await h.nextEvent('probation.passed');
    expect(h.updater!.status().apps.core?.lastKnownGood).toEqual({ version: '1.0.0', image: v1 });
  });

  it('updates to a newer release, created from the core spec and its env file, and prunes the old image after probation', async () => {
    const committed = h.nextEvent('install.committed');
    const pruned = h.nextEvent('images.pruned');
    await h.publish(v2, '1.1.0');
    await committed;
    expect(await h.coreHealth()).toBe('1.1.0');
    const containers = await h.coreContainers();
    expect(containers).toHaveLength(1);
    const inspected = await h.docker.getContainer(containers[0]!.id).inspect();
    const env = inspected.Config.Env;
    expect(inspected.HostConfig.Devices?.map((d: { PathInContainer: string }) => d.PathInContainer)).toEqual([
      '/dev/i2c-1',
    ]);
    expect(inspected.HostConfig.Binds).toEqual([
      `${h.dir}/host-data/core:/data`,
      `${h.dir}/secrets/mqtt:/run/secrets/mqtt:ro`,
    ]);
    expect(env).toContain(`GROWOFF_MODULE_ID=${h.moduleId}`);
    expect(env).toContain('FAKE_VERSION=1.1.0');
    await pruned;
    const images = await h.docker.listImages();
    const digests = images.flatMap((i) => i.RepoDigests ?? []);
    expect(digests).toContain(v2);
    expect(digests).not.toContain(v1);
  });

  it('refuses tampered, wrongly signed, replayed and unsigned releases and pulls nothing', async () => {
    const before = h.ecr.stats().tokensIssued;
    const rejected: string[] = [];
    const off = h.updater!.onEvent((e) => {
      // Only this channel's: the fleet-wide topics carry other tests' documents too.
      if (e.type === 'release.rejected' && e.data?.source === 'channel') rejected.push(String(e.data?.code));
    });
    const good = signEnvelope(h.payload(broken, '9.0.0'), { privateKeyPem: h.keys.privateKeyPem });
    const signed = JSON.parse(Buffer.from(good.payload, 'base64').toString()) as ReleaseDocument;
    const tamperedPayload = Buffer.from(
      JSON.stringify({ ...signed, apps: { core: { version: '9.0.0', image: rc } } }),
    ).toString('base64');
    const cases = [
      JSON.stringify({ ...good, payload: tamperedPayload }),
      JSON.stringify(
        signEnvelope(h.payload(rc, '9.0.1'), { privateKeyPem: generateReleaseKeyPair().privateKeyPem }),
      ),
      JSON.stringify(
        signEnvelope(h.payload(v1, '1.0.0', { sequence: 1 }), { privateKeyPem: h.keys.privateKeyPem }),
      ),
      JSON.stringify({
        ...signEnvelope(h.payload(rc, '9.0.2'), { privateKeyPem: h.keys.privateKeyPem }),
        signatures: [],
      }),
    ];
    for (const text of cases) {
      const refused = h.nextEvent('release.rejected', (e) => e.data?.source === 'channel');
      await h.publishRaw(text);
      await refused;
    }
    off();
    expect(rejected).toEqual(['BAD_SIGNATURE', 'UNTRUSTED_KEY', 'REPLAYED', 'UNSIGNED']);
    expect(h.ecr.stats().tokensIssued).toBe(before);
    expect(h.updater!.status().current?.version).toBe('1.1.0');
    const digests = (await h.docker.listImages()).flatMap((i) => i.RepoDigests ?? []);
    expect(digests).not.toContain(rc);
    expect(digests).not.toContain(broken);
  });

  it('rolls back a release that never becomes healthy and keeps the previous core serving', async () => {
    const rolledBack = h.nextEvent('install.rolled_back');
    await h.publish(broken, '1.2.0');
    const event = await rolledBack;
    expect(event.message).toMatch(/unhealthy|not healthy/);
    expect(await h.coreHealth()).toBe('1.1.0');
    expect(await h.coreContainers()).toEqual([expect.objectContaining({ running: true, image: v2 })]);
    expect(h.updater!.journal.app('core').failedImages).toContain(broken);
  });

  it('rolls back a release that crash-loops in its probation window', async () => {
    const crashLoop = h.nextEvent('probation.crash_loop');
    const rollbackCommitted = h.nextEvent('install.committed', (e) => e.data?.image === v2);
    await h.publish(crashing, '1.3.0');
    await crashLoop;
    await rollbackCommitted;
    expect(await h.coreHealth()).toBe('1.1.0');
    expect(await h.coreContainers()).toEqual([expect.objectContaining({ running: true, image: v2 })]);
    expect(h.updater!.status().apps.core?.lastKnownGood?.image).toBe(v2);
  }, 60_000);

  it('follows its pin over the channel, and the channel again once unpinned', async () => {
    const pinned = h.nextEvent('install.committed', (e) => e.data?.image === rc);
    await h.publish(rc, '2.0.0-rc.1', { name: 'v2.0.0-rc1' }, 'pin');
    await pinned;
    expect(await h.coreHealth()).toBe('2.0.0-rc.1');
    const channelAccepted = h.nextEvent('release.accepted', (e) => e.data?.source === 'channel');
    await h.publish(v1, '1.0.0');
    await channelAccepted;
    expect(h.updater!.status().release?.source).toBe('pin');
    const back = h.nextEvent('install.committed', (e) => e.data?.image === v1);
    await h.unpin();
    await back;
    expect(h.updater!.status().release?.source).toBe('channel');
    expect(await h.coreHealth()).toBe('1.0.0');
  });

  it('reports status, history and accepts a check on its loopback REST API', async () => {
    const { startHttpApi } = await import('../src/reporting/http-api');
    const api = await startHttpApi(h.updater!, h.httpPort);
    try {
      const base = `http://127.0.0.1:${h.httpPort}`;
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const status = (await (await fetch(`${base}/status`)).json()) as { current: { version: string } };
      expect(status.current.version).toBe('1.0.0');
      const history = (await (await fetch(`${base}/history`)).json()) as { entries: Array<{ type: string }> };
      expect(history.entries.map((e) => e.type)).toEqual(
        expect.arrayContaining([
          'install.committed',
          'install.rolled_back',
          'probation.crash_loop',
          'release.rejected',
        ]),
      );
      expect((await fetch(`${base}/check`, { method: 'POST' })).status).toBe(202);
    } finally {
      await api.close();
    }
  });
});
