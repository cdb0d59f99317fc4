import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto, type MosquittoInfo } from './mosquitto';
import { spawnApp, type AppExit, type SpawnedApp } from './app-process';
import { freePort, stopProcess } from './process';

/**
 * Stops the app's broker and sends the app SIGTERM at the same moment (as a host shutdown does);
 * resolves with the app's exit and the time from the signal to its exit event, once both are gone.
 */
export async function sigtermAsBrokerStops(
  app: SpawnedApp,
  brokerPid: number,
): Promise<AppExit & { elapsedMs: number }> {
  const brokerGone = stopProcess(brokerPid);
  const t0 = performance.now();
  app.child.kill('SIGTERM');
  const exit = await app.exited;
  await brokerGone;
  return { ...exit, elapsedMs: exit.at - t0 };
}

/** Signal delivery and process teardown on a loaded machine, beyond the deadline an app keeps. */
export const EXIT_SLACK_MS = 1000;

export interface AppOnOwnBroker {
  app: SpawnedApp;
  broker: MosquittoInfo;
  /** SIGKILLs the app if it still runs, stops the broker (also a SIGSTOPped one) and the watcher. */
  close(): Promise<void>;
}

/**
 * A private Mosquitto in `dir` and an app's built entry on it (`GROWOFF_MQTT_URL` set), resolved once
 * the app's retained status (`statusTopic`) says `online`.
 */
export async function startAppOnOwnBroker(options: {
  entry: string;
  dir: string;
  statusTopic: string;
  env: Record<string, string>;
}): Promise<AppOnOwnBroker> {
  const broker = await startMosquitto({ dir: join(options.dir, 'broker'), port: await freePort() });
  const watcher = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  watcher.on('error', () => undefined);
  await watcher.subscribeAsync(options.statusTopic, { qos: 1 });
  const online = new Promise<void>((resolve) =>
    watcher.on('message', (_topic, payload) => {
      if ((JSON.parse(payload.toString()) as { state?: string }).state === 'online') resolve();
    }),
  );
  const app = spawnApp(options.entry, { ...options.env, GROWOFF_MQTT_URL: broker.url });
  await Promise.race([
    online,
    app.exited.then((exit) => {
      throw new Error(`the app exited (${exit.code ?? exit.signal}) before online:\n${app.output()}`);
    }),
  ]);
  return {
    app,
    broker,
    close: async () => {
      await app.kill();
      watcher.end(true);
      try {
        process.kill(broker.pid, 'SIGCONT');
      } catch {
        // Already gone.
      }
      await stopProcess(broker.pid);
    },
  };
}
