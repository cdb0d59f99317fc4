import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { inRollout, topics } from '@growoff/protocol';
import { freePort, getService } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updaterConfigFromEnv } from '../src/config/updater-config';
import { Updater } from '../src/updater';
import { nextEvent, UpdaterHarness } from './support/harness';

const PERCENT = 25;

interface Module {
  id: string;
  updater: Updater;
  container: string;
}

/** Real updaters for several module ids on one channel, engine, registry and ECR stand-in. */
describe('a rollout percent across module ids', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let image: string;
  const inside: Module[] = [];
  const outside: Module[] = [];

  async function startModule(id: string, index: number): Promise<Module> {
    const dir = join(h.dir, id);
    mkdirSync(dir);
    const envFile = join(dir, 'core.env');
    const mqttUrl = getService('mosquitto').url;
    writeFileSync(
      envFile,
      `GROWOFF_HTTP_PORT=${await freePort()}\nGROWOFF_HTTP_HOST=127.0.0.1\nGROWOFF_MODULE_ID=${id}\nGROWOFF_MQTT_URL=${mqttUrl}\n`,
    );
    const container = `updater-test-core-${h.id}-${index}`;
    const config = updaterConfigFromEnv({
      ...h.env(),
      GROWOFF_MODULE_ID: id,
      GROWOFF_DATA_DIR: join(dir, 'data'),
      GROWOFF_CORE_CONTAINER: container,
      GROWOFF_CORE_ENV_FILE: envFile,
      GROWOFF_UPDATER_HTTP_PORT: String(await freePort()),
    });
    const updater = new Updater({ config, version: '0.0.0-test' });
    await updater.start();
    return { id, updater, container };
  }

  /** Whether the module's core runs; the updater names each container it creates `<name>-<6 hex>`. */
  async function running(container: string): Promise<boolean> {
    const found = await h.docker.listContainers({
      all: true,
      filters: { name: [`^/${container}-[0-9a-f]{6}$`] },
    });
    return found.some((c) => c.State === 'running');
  }

  beforeAll(async () => {
    h = await UpdaterHarness.create();
    image = h.images.build({ version: '1.0.0' });
    // Module ids chosen by their rollout bucket: two the percent selects, six it does not.
    const ids = { inside: [] as string[], outside: [] as string[] };
    for (let i = 0; ids.inside.length < 2 || ids.outside.length < 6; i++) {
      const id = `${h.moduleId}-m${i}`;
      const side = inRollout(id, PERCENT) ? ids.inside : ids.outside;
      if (side.length < (side === ids.inside ? 2 : 6)) side.push(id);
    }
    let index = 0;
    for (const id of ids.inside) inside.push(await startModule(id, index++));
    for (const id of ids.outside) outside.push(await startModule(id, index++));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...inside, ...outside].map((m) => m.updater.stop().catch(() => undefined)));
    const client = await mqtt.connectAsync(getService('mosquitto').url);
    for (const m of [...inside, ...outside]) {
      for (const app of ['core', 'updater'] as const) {
        await client.publishAsync(topics.status(m.id, app), '', { retain: true, qos: 1 });
      }
    }
    await client.endAsync();
    await h?.cleanup();
  });

  it('installs a channel release only on the modules whose bucket falls under its percent, pulling nothing elsewhere', async () => {
    const installed = inside.map((m) => nextEvent(m.updater, 'install.committed', () => true, 90_000));
    const seen = outside.map((m) => nextEvent(m.updater, 'release.accepted', () => true, 90_000));
    await h.publish(image, '1.0.0', { percent: PERCENT });
    await Promise.all(installed);
    for (const event of await Promise.all(seen)) expect(event.data).toMatchObject({ inRollout: false });

    for (const m of inside) {
      expect(await running(m.container), m.id).toBe(true);
      expect(m.updater.status().current?.version, m.id).toBe('1.0.0');
    }
    for (const m of outside) {
      const status = m.updater.status();
      expect(status.release?.outsideRollout, m.id).toEqual({ percent: PERCENT });
      expect(status.current, m.id).toBeUndefined();
      expect(status.registryTokens, m.id).toBe(0);
      expect(await running(m.container), m.id).toBe(false);
    }
  });

  it('brings the remaining modules to the release when the rollout is widened to 100 %', async () => {
    const installed = outside.map((m) => nextEvent(m.updater, 'install.committed', () => true, 90_000));
    await h.publish(image, '1.0.0', { percent: 100 });
    await Promise.all(installed);
    for (const m of [...inside, ...outside]) {
      expect(m.updater.status().current?.version, m.id).toBe('1.0.0');
      expect(await running(m.container), m.id).toBe(true);
    }
  });
});
