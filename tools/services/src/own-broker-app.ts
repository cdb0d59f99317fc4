import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { startMosquitto, type MosquittoInfo } from './mosquitto';
import { freePort, stopProcess } from './process';

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `performance.now()` when the exit event came. */
  at: number;
}

export interface SpawnedApp {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved by line. */
  output(): string;
  /** Resolves at the first line (printed already or later) that contains `text`. */
  waitForLine(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves when the process exits, with the moment it did. */
  readonly exited: Promise<AppExit>;
  /** SIGKILL if still running (test cleanup). */
  kill(): Promise<void>;
}

/** An app's built entry (`dist/main.js`) in its own Node process, as its image runs it. */
export function spawnApp(entry: string, env: Record<string, string>, cwd?: string): SpawnedApp {
  const child = spawn(process.execPath, [entry], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let waiters: { text: string; resolve: () => void }[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    waiters = waiters.filter((w) => {
      if (!line.includes(w.text)) return true;
      w.resolve();
      return false;
    });
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<AppExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return {
    child,
    output: () => lines.join('\n'),
    waitForLine: (text, timeoutMs = 60_000) => {
      if (lines.some((l) => l.includes(text))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line with "${text}"; output:\n${lines.slice(-30).join('\n')}`)),
          timeoutMs,
        );
        waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

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
