import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  sigtermAsBrokerStops,
  spawnApp,
  startMosquitto,
  stopProcess,
  type AppProcess,
} from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { uniqueModuleId } from './helpers';

const ENTRY = resolve(import.meta.dirname, '../dist/main.js');
/** The core's configured deadline (GROWOFF_SHUTDOWN_DEADLINE_MS, its default). */
const DEADLINE_MS = 5000;
/** Signal delivery and process teardown on a loaded machine, beyond the deadline the app keeps. */
const EXIT_SLACK_MS = 1000;

let app: AppProcess | undefined;
let brokerPid: number | undefined;

afterEach(async () => {
  await app?.kill();
  if (brokerPid) await stopProcess(brokerPid);
});

describe('the built core (dist/main.js)', { timeout: 120_000 }, () => {
  it('exits within its shutdown deadline when SIGTERM arrives as its own broker stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'core-sigterm-'));
    const broker = await startMosquitto({ dir: join(dir, 'broker'), port: await freePort() });
    brokerPid = broker.pid;
    const moduleId = uniqueModuleId('sigterm-gone');
    const watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    watcher.on('error', () => undefined);
    await watcher.subscribeAsync(topics.status(moduleId, 'core'), { qos: 1 });
    const online = new Promise<void>((resolveOnline) =>
      watcher.on('message', (_topic, payload) => {
        if ((JSON.parse(payload.toString()) as { state: string }).state === 'online') resolveOnline();
      }),
    );
    app = spawnApp(ENTRY, {
      GROWOFF_MODULE_ID: moduleId,
      GROWOFF_MQTT_URL: broker.url,
      GROWOFF_HTTP_PORT: String(await freePort()),
      GROWOFF_DATA_DIR: join(dir, 'data'),
      GROWOFF_SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS),
    });
    await online;

    const exit = await sigtermAsBrokerStops(app, broker.pid);
    brokerPid = undefined;
    watcher.end(true);

    expect(exit.signal).toBeNull();
    expect([0, 1]).toContain(exit.code);
    expect(exit.elapsedMs).toBeLessThan(DEADLINE_MS + EXIT_SLACK_MS);
    expect(app.output()).toContain('SIGTERM: stopping');
  });
});
