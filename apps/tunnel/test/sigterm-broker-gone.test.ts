import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
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
import { sshKeygen, tempDir, uniqueModuleId } from './support';

const ENTRY = resolve(import.meta.dirname, '../dist/main.js');
/** The tunnel's configured deadline (GROWOFF_SHUTDOWN_DEADLINE_MS, its default). */
const DEADLINE_MS = 5000;
/** Signal delivery and process teardown on a loaded machine, beyond the deadline the app keeps. */
const EXIT_SLACK_MS = 1000;

let app: AppProcess | undefined;
let brokerPid: number | undefined;
let watcher: MqttClient | undefined;

afterEach(async () => {
  await app?.kill();
  watcher?.end(true);
  if (brokerPid) {
    // The second test leaves it stopped (SIGSTOP); it must run again to take SIGTERM.
    try {
      process.kill(brokerPid, 'SIGCONT');
    } catch {
      // Already gone.
    }
    await stopProcess(brokerPid);
  }
  brokerPid = undefined;
});

/** The built tunnel on its own broker, once its retained status says online. */
async function startOnOwnBroker(deadlineMs: number): Promise<{ app: AppProcess; brokerPid: number }> {
  const dir = tempDir('sigterm');
  const broker = await startMosquitto({ dir: join(dir, 'broker'), port: await freePort() });
  brokerPid = broker.pid;
  const moduleId = uniqueModuleId('sigterm');
  watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  watcher.on('error', () => undefined);
  await watcher.subscribeAsync(topics.status(moduleId, 'tunnel'), { qos: 1 });
  const online = new Promise<void>((resolveOnline) =>
    watcher!.on('message', (_topic, payload) => {
      if ((JSON.parse(payload.toString()) as { state: string }).state === 'online') resolveOnline();
    }),
  );
  const key = join(dir, 'module_ed25519');
  sshKeygen(key);
  app = spawnApp(ENTRY, {
    GROWOFF_MODULE_ID: moduleId,
    GROWOFF_MQTT_URL: broker.url,
    // A bastion is only dialled on demand; none is asked for here.
    GROWOFF_BASTION: `127.0.0.1:${await freePort()}`,
    GROWOFF_BASTION_USER: 'growoff-tunnel',
    GROWOFF_BASTION_HOSTKEY: 'SHA256:Vr1mh2ILZn9d35kUhQiYJL1OToPqANIJTsMiIiBD/yM',
    GROWOFF_TUNNEL_KEY: key,
    GROWOFF_TUNNEL_REMOTE_PORT: String(await freePort()),
    GROWOFF_DATA_DIR: join(dir, 'data'),
    GROWOFF_SHUTDOWN_DEADLINE_MS: String(deadlineMs),
  });
  await online;
  return { app, brokerPid: broker.pid };
}

describe('the built tunnel (dist/main.js)', { timeout: 120_000 }, () => {
  it('exits within its shutdown deadline when SIGTERM arrives as its own broker stops', async () => {
    const started = await startOnOwnBroker(DEADLINE_MS);
    const exit = await sigtermAsBrokerStops(started.app, started.brokerPid);
    brokerPid = undefined;

    expect(exit.signal).toBeNull();
    expect([0, 1]).toContain(exit.code);
    expect(exit.elapsedMs).toBeLessThan(DEADLINE_MS + EXIT_SLACK_MS);
    expect(started.app.output()).toContain('SIGTERM: stopping');
  });

  it('exits at once on a second SIGTERM while the first waits on a hung broker', async () => {
    // A long deadline, so that exiting "at once" cannot be the deadline's doing.
    const deadlineMs = 60_000;
    const started = await startOnOwnBroker(deadlineMs);
    // Stopped, not dead: its sockets stay open and nothing comes back, so the goodbye waits.
    process.kill(started.brokerPid, 'SIGSTOP');
    started.app.child.kill('SIGTERM');
    await started.app.waitForLine('SIGTERM: stopping');
    const t0 = performance.now();
    started.app.child.kill('SIGTERM');
    const exit = await started.app.exited;

    expect(exit).toMatchObject({ code: 128 + 15, signal: null });
    expect(exit.at - t0).toBeLessThan(EXIT_SLACK_MS * 5);
    expect(started.app.output()).toContain('SIGTERM again: exiting now');
  });
});
