import { trustedKeyFromPem } from '@growoff/protocol';
import { SimulatedModule } from './simulated-module';
import type { FromWorker, ToWorker, WorkerConfig, WorkerStats } from './worker-protocol';

/** A worker process: runs its share of the fleet and reports counts to the parent every 250 ms. */
const STATS_MS = 250;

let modules: SimulatedModule[] = [];
let readings = 0;
let installs = 0;
let rejected = 0;
let statsTimer: NodeJS.Timeout | undefined;

function send(message: FromWorker): void {
  process.send?.(message);
}

function stats(): WorkerStats {
  const phases: WorkerStats['phases'] = {};
  const versions: Record<string, number> = {};
  let connected = 0;
  for (const m of modules) {
    const s = m.snapshot();
    if (s.connected) connected++;
    phases[s.phase] = (phases[s.phase] ?? 0) + 1;
    versions[s.current] = (versions[s.current] ?? 0) + 1;
  }
  return { modules: modules.length, connected, readings, installs, rejected, phases, versions };
}

async function start(config: WorkerConfig): Promise<void> {
  const trustedKeys = config.trustedKeysPem.map((pem) => trustedKeyFromPem(pem));
  modules = config.modules.map(
    (m) =>
      new SimulatedModule({
        url: config.url,
        moduleId: m.id,
        password: m.password,
        channel: config.channel,
        trustedKeys,
        version: config.version,
        image: config.image,
        sensors: config.sensors,
        downloadMs: config.downloadMs,
        installMs: config.installMs,
        onEvent: (event) => {
          if (event.type === 'reading') readings++;
          else if (event.type === 'installed') installs++;
          else if (event.type === 'rejected') rejected++;
        },
      }),
  );
  statsTimer = setInterval(() => send({ type: 'stats', stats: stats() }), STATS_MS);
  let next = 0;
  const lane = async () => {
    while (next < modules.length) await modules[next++]!.start();
  };
  await Promise.all(Array.from({ length: Math.min(config.connectConcurrency, modules.length) }, lane));
  send({ type: 'started', stats: stats() });
}

async function stop(): Promise<void> {
  clearInterval(statsTimer);
  await Promise.all(modules.map((m) => m.stop()));
  send({ type: 'stopped' });
  process.disconnect?.();
}

process.on('message', (message: ToWorker) => {
  const run = message.type === 'start' ? start(message.config) : stop();
  run.catch((error: unknown) => send({ type: 'failed', message: (error as Error).message }));
});
// The parent went away: nothing else will stop these connections.
process.on('disconnect', () => {
  void Promise.all(modules.map((m) => m.stop())).finally(() => process.exit(0));
});
