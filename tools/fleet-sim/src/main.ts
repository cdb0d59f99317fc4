import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mqttConnectionFromEnv } from '@growoff/config';
import { describeError, loadTrustedKeys } from '@growoff/protocol';
import { FleetSim } from './fleet-sim';
import { FleetSimError } from './fleet-sim-error';
import { renderProgress } from './progress-view';
import { DEFAULT_SIM_SENSORS, scaledSensors } from './sim-profile';
import type { WorkerStats } from './worker-protocol';

const USAGE = `Usage: pnpm --filter @growoff/fleet-sim run sim -- --trusted-keys PATH [options]

  --modules N          simulated modules (default 100)
  --prefix P           module ids are P-0000, P-0001, … (default sim)
  --credentials FILE   JSON [{"id","password"}] for a broker with the fleet ACL (ids from the file)
  --mqtt-url URL       broker (GROWOFF_MQTT_URL, default mqtt://127.0.0.1:1883)
  --channel C          release channel the modules follow (default stable)
  --trusted-keys PATH  PEM public keys releases must be signed with (GROWOFF_RELEASE_KEYS)
  --workers W          worker processes (default: one per core)
  --interval-scale S   multiply the profile's reading intervals (default 1)
`;

function fail(message: string): never {
  throw new FleetSimError('FLEET_SIM_BAD_OPTION', message);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      modules: { type: 'string' },
      prefix: { type: 'string' },
      credentials: { type: 'string' },
      'mqtt-url': { type: 'string' },
      channel: { type: 'string' },
      'trusted-keys': { type: 'string' },
      workers: { type: 'string' },
      'interval-scale': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const keysPath = values['trusted-keys'] ?? process.env.GROWOFF_RELEASE_KEYS;
  if (!keysPath) fail('--trusted-keys (or GROWOFF_RELEASE_KEYS) is required');
  const trustedKeysPem = loadTrustedKeys(keysPath).map((k) =>
    k.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  const count = Number(values.modules ?? 100);
  if (!Number.isSafeInteger(count) || count < 1) fail(`--modules must be a positive integer`);
  const scale = Number(values['interval-scale'] ?? 1);
  if (!(scale > 0)) fail('--interval-scale must be a positive number');
  const prefix = values.prefix ?? 'sim';
  const modules = values.credentials
    ? (JSON.parse(readFileSync(values.credentials, 'utf8')) as Array<{ id: string; password: string }>)
    : Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${String(i).padStart(4, '0')}` }));

  const started = Date.now();
  process.stderr.write(`starting ${modules.length} simulated modules…\n`);
  const sim = await FleetSim.start({
    // The broker as every app reads it; the simulated modules log in with their own ids.
    url: mqttConnectionFromEnv(process.env, { url: values['mqtt-url'] }).url,
    modules,
    channel: values.channel,
    trustedKeysPem,
    workers: values.workers ? Number(values.workers) : undefined,
    sensors: scaledSensors(DEFAULT_SIM_SENSORS, scale),
  });
  let previous: { stats: WorkerStats; elapsedMs: number } | undefined;
  const timer = setInterval(() => {
    const stats = sim.stats();
    const elapsedMs = Date.now() - started;
    const line = renderProgress(stats, elapsedMs, previous);
    process.stdout.write(process.stdout.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
    previous = { stats, elapsedMs };
  }, 1_000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
  process.stderr.write('\nstopping…\n');
  await sim.stop();
}

main().catch((error: unknown) => {
  const { code, message } = describeError(error, 'FLEET_SIM_FAILED');
  process.stderr.write(`${code}: ${message}\n`);
  process.exitCode = 1;
});
