/**
 * The built apps as a module runs them: `node <flags> apps/<app>/dist/main.js` with the V8 flags of
 * the image's CMD and each app's GLIBC_TUNABLES (docker/app/Dockerfile), each against the shared services, nothing simulated but the
 * hardware (core: default profile) and the ECR endpoint (updater: a loopback port nothing answers,
 * never asked since no release is published on its channel).
 *  - core start to healthy: spawn to the first 200 from GET /health;
 *  - idle RSS of each app 30 s after its start (BENCH_IDLE_SECONDS), and its peak (VmHWM);
 *  - the module's memory: the three apps' RSS added up, and what they really take together: each
 *    one's private (anonymous) memory plus, once, the file pages they share (most of it the node
 *    binary's code, about 35 MB of every Node process's RSS); plus Telegraf's container when one
 *    runs (BENCH_TELEGRAF_CONTAINER, default growoff-telegraf, on the shared Docker engine).
 * Run from the repository root after `pnpm nx run-many -t build -p core updater tunnel`:
 *   pnpm exec tsx bench/apps/run.ts
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, getService, isAlive } from '@growoff/test-services';
import { imageNodeEnv, imageNodeFlags } from '../image-flags';
import { benchResult } from '../result';

const ROOT = resolve(import.meta.dirname, '../..');
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const TELEGRAF = process.env.BENCH_TELEGRAF_CONTAINER ?? 'growoff-telegraf';

const dir = mkdtempSync(join(tmpdir(), 'bench-apps-'));
const mqttUrl = getService('mosquitto').url;
const id = `bench-apps-${process.pid}`;
const flags = imageNodeFlags();

interface Started {
  name: string;
  child: ChildProcess;
  startedAt: number;
  output: () => string;
}

function start(
  name: string,
  env: Record<string, string>,
  entry = [join(ROOT, `apps/${name}/dist/main.js`)],
  imageEnv = name === 'core' || name === 'updater' || name === 'tunnel' ? imageNodeEnv(name) : {},
): Started {
  const child = spawn(process.execPath, [...flags, ...entry], {
    cwd: dir,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...imageEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  return { name, child, startedAt: performance.now(), output: () => out };
}

function memoryOf(pid: number): { rssMb: number; peakMb: number; anonMb: number; fileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return {
    rssMb: kb('VmRSS') / 1024,
    peakMb: kb('VmHWM') / 1024,
    anonMb: kb('RssAnon') / 1024,
    fileMb: kb('RssFile') / 1024,
  };
}

const until = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// 1. The core alone, from spawn to its first healthy answer.
const corePort = await freePort();
const core = start('core', {
  GROWOFF_MODULE_ID: `${id}-core`,
  GROWOFF_MQTT_URL: mqttUrl,
  GROWOFF_HTTP_PORT: String(corePort),
  GROWOFF_DATA_DIR: join(dir, 'core'),
});
let healthyMs: number | undefined;
while (healthyMs === undefined) {
  if (!isAlive(core.child.pid!)) throw new Error(`the core exited while starting:\n${core.output()}`);
  try {
    const res = await fetch(`http://127.0.0.1:${corePort}/health`);
    await res.arrayBuffer();
    if (res.status === 200) healthyMs = performance.now() - core.startedAt;
  } catch {
    await until(5); // not listening yet
  }
  if (performance.now() - core.startedAt > 30_000) throw new Error(`core not healthy:\n${core.output()}`);
}

// 2. The updater and the tunnel beside it.
mkdirSync(join(dir, 'keys'));
writeFileSync(
  join(dir, 'keys/release.pem'),
  generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
);
const updater = start('updater', {
  GROWOFF_MODULE_ID: `${id}-updater`,
  GROWOFF_MQTT_URL: mqttUrl,
  GROWOFF_DOCKER_HOST: getService('docker').host,
  GROWOFF_ECR_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  GROWOFF_RELEASE_KEYS: join(dir, 'keys'),
  GROWOFF_CHANNEL: `bench-${process.pid}`,
  GROWOFF_CORE_IMAGE_REPO: '127.0.0.1:1/bench/core',
  GROWOFF_CORE_CONTAINER: `${id}-core`,
  GROWOFF_UPDATER_HTTP_PORT: String(await freePort()),
  GROWOFF_DATA_DIR: join(dir, 'updater'),
});
const tunnelKey = join(dir, 'tunnel_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', tunnelKey]);
const tunnel = start('tunnel', {
  GROWOFF_MODULE_ID: `${id}-tunnel`,
  GROWOFF_MQTT_URL: mqttUrl,
  // Dialled only on demand; none is asked for.
  GROWOFF_BASTION: `127.0.0.1:${await freePort()}`,
  GROWOFF_BASTION_HOSTKEY: getService('sshd').hostKeyFingerprint,
  GROWOFF_TUNNEL_KEY: tunnelKey,
  GROWOFF_TUNNEL_REMOTE_PORT: String(await freePort()),
  GROWOFF_DATA_DIR: join(dir, 'tunnel'),
});

// The baseline: an idle node with the same flags and nothing loaded.
const bare = start('node', {}, ['-e', 'setInterval(() => {}, 1000)']);

const apps = [core, updater, tunnel, bare];
const measured: Record<string, ReturnType<typeof memoryOf>> = {};
for (const app of apps) {
  await until(app.startedAt + IDLE_SECONDS * 1000 - performance.now());
  if (!isAlive(app.child.pid!)) throw new Error(`${app.name} exited:\n${app.output()}`);
  measured[app.name] = memoryOf(app.child.pid!);
}
for (const app of apps) app.child.kill('SIGTERM');
await Promise.all(
  apps.map((a) => new Promise((r) => (a.child.exitCode !== null ? r(0) : a.child.once('exit', r)))),
);

/** Telegraf's memory from its container's stats, when one runs on the engine. */
function telegrafMb(): number | undefined {
  try {
    const usage = execFileSync(
      'docker',
      ['-H', getService('docker').host, 'stats', '--no-stream', '--format', '{{.MemUsage}}', TELEGRAF],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const m = /([\d.]+)\s*(KiB|MiB|GiB)/.exec(usage);
    if (!m) return undefined;
    return Number(m[1]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'KiB' | 'MiB' | 'GiB'];
  } catch {
    return undefined;
  }
}
const telegraf = telegrafMb();
const { node: bareNode, ...appMemory } = measured;
const apps3 = Object.values(appMemory);
const rssSum = apps3.reduce((a, m) => a + m.rssMb, 0) + (telegraf ?? 0);
const sum =
  apps3.reduce((a, m) => a + m.anonMb, 0) + Math.max(...apps3.map((m) => m.fileMb)) + (telegraf ?? 0);

const mb = (n: number) => `${n.toFixed(1)} MiB`;
const tunables = (['core', 'updater', 'tunnel'] as const)
  .map((app) => [app, imageNodeEnv(app).GLIBC_TUNABLES] as const)
  .filter(([, value]) => value !== undefined)
  .map(([app, value]) => `; the ${app} with GLIBC_TUNABLES=${value}`)
  .join('');
console.log(`built apps (node ${flags.join(' ')}${tunables}), idle after ${IDLE_SECONDS} s`);
console.log(`core start to healthy: ${healthyMs.toFixed(0)} ms`);
for (const [name, m] of Object.entries(measured))
  console.log(
    `${name.padEnd(8)} idle RSS ${mb(m.rssMb)} (private ${mb(m.anonMb)}, file pages ${mb(m.fileMb)}), peak ${mb(m.peakMb)}${name === 'node' ? ' (bare node, the baseline)' : ''}`,
  );
console.log(
  `module memory: ${mb(sum)} private + shared once, ${mb(rssSum)} RSS added up (${telegraf === undefined ? `apps only: no ${TELEGRAF} container on the engine` : `Telegraf ${mb(telegraf)}`})`,
);

benchResult('apps', [
  { id: 'core.startToHealthy', value: healthyMs, unit: 'ms' },
  ...Object.entries(appMemory).flatMap(([name, m]) => [
    { id: `${name}.idleRss`, value: m.rssMb, baseline: bareNode!.rssMb, unit: 'MiB' },
    { id: `${name}.peakRss`, value: m.peakMb, baseline: bareNode!.peakMb, unit: 'MiB' },
    { id: `${name}.privateMemory`, value: m.anonMb, baseline: bareNode!.anonMb, unit: 'MiB' },
  ]),
  {
    id: 'module.memory',
    value: sum,
    unit: 'MiB',
    note: telegraf === undefined ? 'Telegraf not measured: no container here' : 'with Telegraf',
  },
  {
    id: 'module.rssSum',
    value: rssSum,
    unit: 'MiB',
    note: telegraf === undefined ? 'Telegraf not measured: no container here' : 'with Telegraf',
  },
]);
process.exit(0);
