import { freePort } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';
import { TestImages } from './support/test-images';

describe('the Telegraf container', { timeout: 90_000 }, () => {
  let h: UpdaterHarness;
  let telegrafImages: TestImages;
  let core: string;
  let telegraf1: string;
  let telegraf2: string;

  beforeAll(async () => {
    telegrafImages = new TestImages({ app: 'telegraf' });
    // The stand-in agent answers its Docker HEALTHCHECK on a port of its own.
    const env = { GROWOFF_HTTP_PORT: String(await freePort()) };
    h = await UpdaterHarness.create({
      env: {
        GROWOFF_TELEGRAF_IMAGE_REPO: telegrafImages.repo,
        GROWOFF_PROBATION_S: '1',
        GROWOFF_HEALTH_TIMEOUT_S: '30',
      },
    });
    core = h.images.build({ version: '1.0.0' });
    telegraf1 = telegrafImages.build({ version: '1.30.0', env });
    telegraf2 = telegrafImages.build({ version: '1.31.0', env });
    await h.startUpdater();
  }, 180_000);

  afterAll(async () => {
    await h?.cleanup();
    await telegrafImages?.cleanup();
  });

  async function telegrafContainers() {
    const list = await h.docker.listContainers({
      all: true,
      filters: { label: [`growoff.managed-by=${h.managedBy}`, 'growoff.app=telegraf'] },
    });
    return list.map((c) => ({ running: c.State === 'running', image: c.Labels['growoff.release-image'] }));
  }

  it('is kept at the release its core release names, through the same install machinery', async () => {
    const telegrafCommitted = h.nextEvent('install.committed', (e) => e.data?.app === 'telegraf');
    await h.publish(core, '1.0.0', { telegraf: { version: '1.30.0', image: telegraf1 } });
    await telegrafCommitted;
    expect(await telegrafContainers()).toEqual([{ running: true, image: telegraf1 }]);
    expect(await h.coreHealth()).toBe('1.0.0');

    const updated = h.nextEvent('install.committed', (e) => e.data?.app === 'telegraf');
    await h.publish(core, '1.0.0', { telegraf: { version: '1.31.0', image: telegraf2 } });
    await updated;
    expect(await telegrafContainers()).toEqual([{ running: true, image: telegraf2 }]);
    expect(h.updater!.status().apps.telegraf?.current).toEqual({ version: '1.31.0', image: telegraf2 });
  });
});
