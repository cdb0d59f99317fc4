import { portAnswers } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdaterEvent } from '../src/updater';
import { PrivateRegistry, UpdaterHarness } from './support/harness';

describe('rollback without the network', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let registry: PrivateRegistry;
  let good: string;
  let crashing: string;
  let fresh: string;

  beforeAll(async () => {
    // A registry of this test's own: it is stopped, the shared one never is.
    registry = await PrivateRegistry.start();
    h = await UpdaterHarness.create({
      registry: registry.info,
      env: { GROWOFF_PROBATION_S: '8', GROWOFF_PULL_RETRY_S: '20' },
    });
    good = h.images.build({ version: '1.0.0' });
    crashing = h.images.build({ version: '1.1.0', mode: 'crash', crashAfterS: 6 });
    fresh = h.images.build({ version: '1.2.0' });
    await h.startUpdater();
  }, 180_000);

  afterAll(async () => {
    await h?.cleanup();
    await registry?.close();
  });

  it('rolls a crash-looping core back to the image on disk while the registry is down, at once', async () => {
    await h.installed(good, '1.0.0');

    const committed = h.nextEvent('install.committed', (e) => e.data?.image === crashing);
    await h.publish(crashing, '1.1.0');
    await committed;
    // In probation the previous image stays on the engine: it is the way back.
    const digests = (await h.docker.listImages()).flatMap((i) => i.RepoDigests ?? []);
    expect(digests).toContain(good);

    await registry.kill();
    const seen: UpdaterEvent[] = [];
    const off = h.updater!.onEvent((e) => seen.push(e));
    const crashLoop = h.nextEvent('probation.crash_loop', () => true, 60_000);
    const restored = h.nextEvent('install.committed', (e) => e.data?.image === good, 60_000);
    await crashLoop;
    const loopAt = Date.now();
    await restored;
    off();

    // Nothing waited for the registry.
    expect(Date.now() - loopAt).toBeLessThan(45_000);
    expect(seen.filter((e) => e.type === 'download.retry' || e.type === 'download.failed')).toEqual([]);
    expect(seen.find((e) => e.type === 'download.completed')?.data).toMatchObject({
      image: good,
      local: true,
      bytesDownloaded: 0,
    });
    expect(await h.coreHealth()).toBe('1.0.0');
    expect((await h.coreContainers()).filter((c) => c.running)).toEqual([
      expect.objectContaining({ image: good }),
    ]);
    expect(h.updater!.status().apps.core?.lastKnownGood?.image).toBe(good);
    expect(h.updater!.journal.app('core').failedImages).toContain(crashing);
    expect(await portAnswers(registry.info.port)).toBe(false);
  });

  it('pulls with the registry down in slices that never hold the work queue for the retry window', async () => {
    // The registry is still down: the release's image is not on the engine.
    let failedAt: number | undefined;
    const off = h.updater!.onEvent((e) => {
      if (e.type === 'download.failed') failedAt ??= Date.now();
    });
    const retrying = h.nextEvent('download.retry', (e) => e.data?.app === 'core');
    const failed = h.nextEvent('download.failed', (e) => e.data?.image === fresh, 60_000);
    const published = Date.now();
    await h.publish(fresh, '1.2.0');
    await retrying;
    // The queue comes back after a slice (a quarter of the 20 s window), not after the window.
    await h.updater!.check();
    expect(failedAt).toBeUndefined();
    expect((await failed).data?.error).toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
    off();
    expect(failedAt! - published).toBeGreaterThanOrEqual(20_000);
    expect(await h.coreHealth()).toBe('1.0.0');
  });
});
