import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, getService } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';
import { TestImages } from './support/test-images';

const TELEGRAF_ENV = [
  'GROWOFF_TELEGRAF_TOKEN=local-token',
  'GROWOFF_CLOUD_INFLUX_URL=https://influx.invalid',
];

describe('the Telegraf container on a freshly installed module', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let telegrafImages: TestImages;
  let core: string;
  let installed: string;
  let released: string;
  let unitContainer: string;
  const socket = getService('docker').socket;

  beforeAll(async () => {
    telegrafImages = new TestImages({ app: 'telegraf' });
    // The stand-in agent answers its Docker HEALTHCHECK on a port of its own, as user telegraf.
    const env = { GROWOFF_HTTP_PORT: String(await freePort()) };
    h = await UpdaterHarness.create({
      env: {
        GROWOFF_PROBATION_S: '1',
        GROWOFF_HEALTH_TIMEOUT_S: '30',
      },
    });
    core = h.images.build({ version: '1.0.0' });
    installed = telegrafImages.build({ version: '1.30.0', env, user: 'telegraf' });
    released = telegrafImages.build({ version: '1.31.0', env, user: 'telegraf' });
    // What tools/base installs: telegraf.env, and the image the updater starts before any release.
    writeFileSync(
      join(h.dir, 'telegraf.env'),
      `# tools/base\nGROWOFF_MODULE_ID=${h.moduleId}\n${TELEGRAF_ENV.join('\n')}\n`,
    );
    mkdirSync(join(h.dir, 'hostfs'));
    // A module upgraded from a base whose unit started Telegraf itself, under the spec's own name.
    telegrafImages.docker(['pull', installed]);
    unitContainer = telegrafImages
      .docker(['run', '--detach', '--name', `updater-test-telegraf-${h.id}`, '--network', 'none', installed])
      .trim();
    await h.startUpdater({
      GROWOFF_TELEGRAF_IMAGE_REPO: telegrafImages.repo,
      GROWOFF_TELEGRAF_IMAGE: installed,
      GROWOFF_HOST_DOCKER_SOCKET: socket,
      GROWOFF_HOST_ROOT: join(h.dir, 'hostfs'),
    });
  }, 240_000);

  afterAll(async () => {
    await h?.docker
      .getContainer(unitContainer)
      .remove({ force: true })
      .catch(() => undefined);
    await h?.cleanup();
    await telegrafImages?.cleanup();
  });

  /** Every Telegraf container on the engine that this module's updater or its old unit made. */
  async function telegrafContainers() {
    const list = await h.docker.listContainers({ all: true });
    const ours = list.filter(
      (c) =>
        c.Labels['growoff.managed-by'] === h.managedBy ||
        c.Names.some((n) => n.startsWith(`/updater-test-telegraf-${h.id}`)),
    );
    const telegraf = ours.filter((c) => c.Labels['growoff.app'] !== 'core');
    return Promise.all(telegraf.map((c) => h.docker.getContainer(c.Id).inspect()));
  }

  async function exactlyOneConfiguredTelegraf(image: string): Promise<void> {
    const [only, ...others] = await telegrafContainers();
    expect(others).toEqual([]);
    expect(only!.State.Running).toBe(true);
    expect(only!.Config.Labels).toMatchObject({
      'growoff.app': 'telegraf',
      'growoff.managed-by': h.managedBy,
      'growoff.release-image': image,
    });
    expect(only!.Config.Env).toEqual(
      expect.arrayContaining([`GROWOFF_MODULE_ID=${h.moduleId}`, ...TELEGRAF_ENV]),
    );
    expect(only!.HostConfig.Binds).toEqual([
      `${join(h.dir, 'hostfs')}:/hostfs:ro`,
      `${socket}:/var/run/docker.sock:ro`,
      `updater-test-telegraf-${h.id}:/var/lib/telegraf`,
    ]);
    expect(only!.Config.User).toBe(`telegraf:${statSync(socket).gid}`);
    expect(only!.HostConfig.NetworkMode).toBe('host');
    expect(only!.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
  }

  it('is started once, configured from its spec, in place of the one its old unit started', async () => {
    const committed = h.nextEvent(
      'install.committed',
      (e) => e.data?.app === 'telegraf' && e.data.image === installed,
    );
    // What main.js does right after the start.
    await h.updater!.check();
    await committed;
    await exactlyOneConfiguredTelegraf(installed);
    expect(
      h.updater!.history().some((e) => e.type === 'reconcile.removed' && e.data?.container === unitContainer),
    ).toBe(true);
  });

  it('stays one configured Telegraf when a release names a new one', async () => {
    const updated = h.nextEvent(
      'install.committed',
      (e) => e.data?.app === 'telegraf' && e.data.image === released,
    );
    await h.publish(core, '1.0.0', { telegraf: { version: '1.31.0', image: released } });
    await updated;
    await exactlyOneConfiguredTelegraf(released);
    expect(h.updater!.status().apps.telegraf?.current).toEqual({ version: '1.31.0', image: released });
    expect(await h.coreHealth()).toBe('1.0.0');
  });

  it('is still one Telegraf after the updater restarts, as after a reboot', async () => {
    await h.stopUpdater();
    await h.startUpdater({
      GROWOFF_TELEGRAF_IMAGE_REPO: telegrafImages.repo,
      GROWOFF_TELEGRAF_IMAGE: installed,
      GROWOFF_HOST_DOCKER_SOCKET: socket,
      GROWOFF_HOST_ROOT: join(h.dir, 'hostfs'),
    });
    await exactlyOneConfiguredTelegraf(released);
  });
});
