import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  sigtermAsBrokerStops,
  spawnApp,
  startMosquitto,
  stopProcess,
  type AppProcess,
} from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { UpdaterHarness } from './support/harness';

const ENTRY = resolve(import.meta.dirname, '../dist/main.js');
/** The updater's configured deadline (GROWOFF_SHUTDOWN_DEADLINE_MS, its default). */
const DEADLINE_MS = 5000;
/** Signal delivery and process teardown on a loaded machine, beyond the deadline the app keeps. */
const EXIT_SLACK_MS = 1000;

describe('the built updater (dist/main.js)', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let app: AppProcess | undefined;
  let brokerPid: number | undefined;
  let watcher: MqttClient | undefined;

  beforeAll(async () => {
    h = await UpdaterHarness.create();
  });

  afterAll(async () => {
    await app?.kill();
    watcher?.end(true);
    if (brokerPid) await stopProcess(brokerPid);
    await h?.cleanup();
  });

  it('exits within its shutdown deadline when SIGTERM arrives as its own broker stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'updater-sigterm-'));
    const broker = await startMosquitto({ dir, port: await freePort() });
    brokerPid = broker.pid;
    watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    watcher.on('error', () => undefined);
    await watcher.subscribeAsync(topics.status(h.moduleId, 'updater'), { qos: 1 });
    const online = new Promise<void>((resolveOnline) =>
      watcher!.on('message', (_topic, payload) => {
        if ((JSON.parse(payload.toString()) as { state: string }).state === 'online') resolveOnline();
      }),
    );
    app = spawnApp(ENTRY, {
      ...h.env(),
      GROWOFF_MQTT_URL: broker.url,
      GROWOFF_SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS),
    });
    await online;

    const exit = await sigtermAsBrokerStops(app, broker.pid);
    brokerPid = undefined;

    expect(exit.signal).toBeNull();
    expect([0, 1]).toContain(exit.code);
    expect(exit.elapsedMs).toBeLessThan(DEADLINE_MS + EXIT_SLACK_MS);
    expect(app.output()).toContain('SIGTERM: stopping');
  });
});
