import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FleetSimError } from './fleet-sim-error';
import { DEFAULT_SIM_SENSORS, type SimSensor } from './sim-profile';
import type { FromWorker, ToWorker, WorkerConfig, WorkerStats } from './worker-protocol';

export interface FleetSimOptions {
  url: string;
  /** Module ids, with passwords when the broker has the fleet ACL. */
  modules: ReadonlyArray<{ id: string; password?: string }>;
  channel?: string;
  trustedKeysPem: string[];
  /** Worker processes; default one per core. */
  workers?: number;
  version?: string;
  image?: string;
  sensors?: readonly SimSensor[];
  downloadMs?: readonly [number, number];
  installMs?: number;
  connectConcurrency?: number;
  /** How long all modules may take to connect. */
  startTimeoutMs?: number;
}

export const INITIAL_IMAGE = `registry.example/growoff/core@sha256:${'0'.repeat(64)}`;

/** A running simulated fleet: worker processes, each owning a share of the modules. */
export class FleetSim {
  private readonly latest = new Map<ChildProcess, WorkerStats>();

  private constructor(private readonly children: ChildProcess[]) {}

  static async start(options: FleetSimOptions): Promise<FleetSim> {
    const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), options.modules.length));
    const shares: Array<FleetSimOptions['modules'][number][]> = Array.from({ length: workers }, () => []);
    options.modules.forEach((m, i) => shares[i % workers]!.push(m));
    const children = shares.map(() =>
      fork(WORKER_PATH, [], {
        execArgv: ['--import', TSX_LOADER],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const sim = new FleetSim(children);
    const started = children.map((child, i) => {
      const config: WorkerConfig = {
        url: options.url,
        modules: shares[i]!,
        channel: options.channel ?? 'stable',
        trustedKeysPem: options.trustedKeysPem,
        version: options.version ?? '1.0.0',
        image: options.image ?? INITIAL_IMAGE,
        sensors: options.sensors ?? DEFAULT_SIM_SENSORS,
        downloadMs: options.downloadMs ?? [200, 800],
        installMs: options.installMs ?? 200,
        connectConcurrency: options.connectConcurrency ?? 20,
      };
      return sim.startWorker(child, config);
    });
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all(started),
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new FleetSimError('FLEET_SIM_TIMEOUT', `the fleet did not connect within ${timeoutMs} ms`),
              ),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      await sim.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return sim;
  }

  /** Pids of the worker processes (for CPU accounting). */
  get pids(): number[] {
    return this.children.map((c) => c.pid!).filter(Boolean);
  }

  /** The fleet's counts, summed over the workers' latest reports. */
  stats(): WorkerStats {
    const total: WorkerStats = {
      modules: 0,
      connected: 0,
      readings: 0,
      installs: 0,
      rejected: 0,
      phases: {},
      versions: {},
    };
    for (const s of this.latest.values()) {
      total.modules += s.modules;
      total.connected += s.connected;
      total.readings += s.readings;
      total.installs += s.installs;
      total.rejected += s.rejected;
      for (const [k, v] of Object.entries(s.phases)) {
        const phase = k as keyof WorkerStats['phases'];
        total.phases[phase] = (total.phases[phase] ?? 0) + v;
      }
      for (const [k, v] of Object.entries(s.versions)) total.versions[k] = (total.versions[k] ?? 0) + v;
    }
    return total;
  }

  /** Stops every module (their connections close cleanly, so no will fires) and the workers. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || !child.connected) {
              resolve();
              return;
            }
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            // A worker that is already dying (killed, crashed) cannot take the message; its exit resolves.
            child.send({ type: 'stop' } satisfies ToWorker, (error) => {
              if (error) child.kill('SIGKILL');
            });
          }),
      ),
    );
  }

  private startWorker(child: ChildProcess, config: WorkerConfig): Promise<void> {
    return new Promise((resolve, reject) => {
      child.on('message', (message: FromWorker) => {
        if (message.type === 'stats' || message.type === 'started') this.latest.set(child, message.stats);
        if (message.type === 'started') resolve();
        if (message.type === 'failed')
          reject(new FleetSimError('FLEET_SIM_WORKER_FAILED', `a fleet worker failed: ${message.message}`));
      });
      child.once('exit', (code) =>
        reject(new FleetSimError('FLEET_SIM_WORKER_FAILED', `a fleet worker exited with code ${code}`)),
      );
      child.send({ type: 'start', config } satisfies ToWorker, (error) => {
        if (error) reject(new FleetSimError('FLEET_SIM_WORKER_FAILED', `a fleet worker: ${error.message}`));
      });
    });
  }
}

const WORKER_PATH = join(dirname(fileURLToPath(import.meta.url)), 'fleet-worker.ts');
// Workers run the TypeScript source through tsx, like the rest of the tools.
const TSX_LOADER = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs'),
).href;
