import { waitUntil } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateRegistry, UpdaterHarness } from './support/harness';

describe('registry access', { timeout: 90_000 }, () => {
  describe('with a short-lived ECR token', () => {
    let h: UpdaterHarness;
    let v1: string;
    let v2: string;
    let locking: string;
    let afterLock: string;

    beforeAll(async () => {
      h = await UpdaterHarness.create({ tokenTtlSeconds: 3, env: { GROWOFF_PROBATION_S: '1' } });
      v1 = h.images.build({ version: '1.0.0' });
      v2 = h.images.build({ version: '1.0.1' });
      locking = h.images.build({ version: '1.1.0', lockS: 15 });
      afterLock = h.images.build({ version: '1.2.0' });
      await h.startUpdater();
    }, 120_000);

    afterAll(async () => {
      await h?.cleanup();
    });

    it('renews an expired token from ECR before the next pull', async () => {
      const first = h.nextEvent('install.committed');
      await h.publish(v1, '1.0.0');
      await first;
      const issued = h.ecr.stats().tokensIssued;
      expect(issued).toBeGreaterThanOrEqual(1);
      const expiredAt = Date.now() + 3000;
      // Token expiry is a point in time; nothing announces it.
      await waitUntil('the first token to expire', () => Date.now() > expiredAt, 10_000);
      const second = h.nextEvent('install.committed');
      await h.publish(v2, '1.0.1');
      await second;
      expect(h.ecr.stats().tokensIssued).toBeGreaterThan(issued);
      expect(await h.coreHealth()).toBe('1.0.1');
    });

    it("waits for the core's update lock until its max age before stopping it", async () => {
      const locked = h.nextEvent('install.committed');
      await h.publish(locking, '1.1.0');
      await locked;
      const containers = await h.coreContainers();
      const startedAt = Date.parse(
        (await h.docker.getContainer(containers[0]!.id).inspect()).State.StartedAt,
      );
      const waiting = h.nextEvent('install.waiting_lock');
      const stopping = h.nextEvent('install.stopping_old');
      await h.publish(afterLock, '1.2.0');
      await waiting;
      // While the updater waits for the lock, the old core keeps serving. (Checked here, not after
      // install.stopping_old: that event starts the stop, so a check after it races the stop.)
      expect(await h.coreHealth()).toBe('1.1.0');
      await stopping;
      expect(Date.now()).toBeGreaterThanOrEqual(startedAt + 15_000);
      await h.nextEvent('install.committed');
      expect(await h.coreHealth()).toBe('1.2.0');
    });
  });

  describe('when the engine lacks the disk space for the new layers', () => {
    let h: UpdaterHarness;
    let image: string;

    beforeAll(async () => {
      h = await UpdaterHarness.create({ env: { GROWOFF_DISK_RESERVE_MB: '1000000' } });
      image = h.images.build({ version: '5.0.0' });
      await h.startUpdater();
    }, 120_000);

    afterAll(async () => {
      await h?.cleanup();
    });

    it('refuses the download before pulling anything', async () => {
      const failed = h.nextEvent('download.failed');
      await h.publish(image, '5.0.0');
      expect((await failed).data?.error).toMatchObject({ code: 'DISK_SPACE_LOW' });
      const digests = (await h.docker.listImages()).flatMap((i) => i.RepoDigests ?? []);
      expect(digests).not.toContain(image);
      expect(await h.coreContainers()).toEqual([]);
    });
  });

  /** An updater on a registry of its own, with a 48 MiB release `version` built there, not yet published. */
  function onPrivateRegistry(version: string, env: Record<string, string> = {}) {
    const world = {} as { h: UpdaterHarness; registry: PrivateRegistry; image: string };
    beforeAll(async () => {
      world.registry = await PrivateRegistry.start();
      world.h = await UpdaterHarness.create({
        registry: world.registry.info,
        env: { GROWOFF_PROBATION_S: '1', ...env },
      });
      world.image = world.h.images.build({ version, uniqueBytes: 48 * 1024 * 1024 });
      await world.h.startUpdater();
    }, 180_000);
    afterAll(async () => {
      await world.h?.cleanup();
      await world.registry?.close();
    });
    return world;
  }

  describe('when the registry hangs in the middle of a pull', () => {
    const world = onPrivateRegistry('5.0.0', { GROWOFF_PULL_STALL_S: '2' });

    it('cancels the stalled pull, keeps trying and installs the release once the registry answers', async () => {
      const { h, registry, image } = world;
      const transferring = h.nextEvent('download.progress');
      const stalled = h.nextEvent('download.retry');
      const committed = h.nextEvent('install.committed');
      await h.publish(image, '5.0.0');
      await transferring;
      registry.freeze();
      try {
        const retry = await stalled;
        expect(retry.data?.error).toMatchObject({
          code: 'PULL_FAILED',
          message: expect.stringMatching(/reported no progress of the pull .* for 2 s/),
        });
      } finally {
        registry.thaw();
      }
      await committed;
      expect(await h.coreHealth()).toBe('5.0.0');
    });
  });

  describe('when the registry goes down in the middle of a pull', () => {
    const world = onPrivateRegistry('4.0.0');

    it('retries until the registry is back and installs the release', async () => {
      const { h, registry, image } = world;
      const transferring = h.nextEvent('download.progress');
      let completed = false;
      const off = h.updater!.onEvent((e) => {
        if (e.type === 'download.completed') completed = true;
      });
      const committed = h.nextEvent('install.committed');
      await h.publish(image, '4.0.0');
      await transferring;
      await registry.kill();
      off();
      expect(completed).toBe(false);
      await registry.restart();
      await committed;
      expect(await h.coreHealth()).toBe('4.0.0');
    });
  });
});
