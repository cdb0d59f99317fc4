import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@growoff/test-services';
import { UpdaterHarness } from './support/harness';
import { TestImages } from './support/test-images';

describe('the tunnel container', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let tunnelImages: TestImages;
  let core: string;
  let installed: string;
  let released: string;

  beforeAll(async () => {
    tunnelImages = new TestImages({ app: 'tunnel' });
    h = await UpdaterHarness.create({ env: { GROWOFF_PROBATION_S: '1', GROWOFF_HEALTH_TIMEOUT_S: '30' } });
    core = h.images.build({ version: '1.0.0' });
    // The stand-in answers its Docker HEALTHCHECK on a port of its own.
    const env = { GROWOFF_HTTP_PORT: String(await freePort()) };
    installed = tunnelImages.build({ version: '0.1.0', env });
    released = tunnelImages.build({ version: '0.2.0', env });
    // What tools/base installs: tunnel.env and the module's tunnel key.
    writeFileSync(
      join(h.dir, 'tunnel.env'),
      `GROWOFF_MODULE_ID=${h.moduleId}\nGROWOFF_BASTION=127.0.0.1:1\n`,
    );
    mkdirSync(join(h.dir, 'secrets'));
    writeFileSync(join(h.dir, 'secrets/tunnel_ed25519'), 'key\n', { mode: 0o600 });
    await h.startUpdater({ GROWOFF_TUNNEL_IMAGE_REPO: tunnelImages.repo, GROWOFF_TUNNEL_IMAGE: installed });
  }, 240_000);

  afterAll(async () => {
    await h?.cleanup();
    await tunnelImages?.cleanup();
  });

  async function tunnels() {
    const list = await h.docker.listContainers({
      all: true,
      filters: { label: [`growoff.managed-by=${h.managedBy}`, 'growoff.app=tunnel'] },
    });
    return Promise.all(list.map((c) => h.docker.getContainer(c.Id).inspect()));
  }

  async function exactlyOneTunnel(image: string): Promise<void> {
    const [only, ...others] = await tunnels();
    expect(others).toEqual([]);
    expect(only!.State.Running).toBe(true);
    expect(only!.Config.Labels['growoff.release-image']).toBe(image);
    expect(only!.Config.Env).toEqual(expect.arrayContaining(['GROWOFF_BASTION=127.0.0.1:1']));
    expect(only!.HostConfig.Binds).toContain(
      `${join(h.dir, 'secrets/tunnel_ed25519')}:/run/secrets/tunnel_ed25519:ro`,
    );
    expect(only!.HostConfig.ReadonlyRootfs).toBe(true);
    expect(only!.HostConfig.CapDrop).toEqual(['ALL']);
  }

  it('is started from the installed image, then replaced by the one a release names', async () => {
    const first = h.nextEvent(
      'install.committed',
      (e) => e.data?.app === 'tunnel' && e.data.image === installed,
    );
    await h.updater!.check();
    await first;
    await exactlyOneTunnel(installed);

    const replaced = h.nextEvent(
      'install.committed',
      (e) => e.data?.app === 'tunnel' && e.data.image === released,
    );
    const named = { tunnel: { version: '0.2.0', image: released } };
    await h.publish(core, '1.0.0', named);
    await replaced;
    await exactlyOneTunnel(released);
    expect(h.updater!.status().apps.tunnel?.current).toEqual({ version: '0.2.0', image: released });
  });
});
