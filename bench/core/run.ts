/**
 * Core benchmarks, each a ratio against a baseline measured in the same run:
 *  1. command → applied → state published round trip (p50/p99) vs a bare mqtt.js request/echo
 *     through the same broker (the shared Mosquitto); beside them, for information, the least any
 *     core does for a command: a bare mqtt.js handler on the core's topics that parses the command,
 *     writes the light's PCA9685 channel on the same simulated bus, reads it back and publishes the
 *     retained state (no validation schema, interlocks, supervision, events or state store);
 *  2. GET /api/v1/sensors requests/s vs a bare fastify route returning the same JSON.
 *  Both sides of 1 and 2 run in this process, which runs with the image's V8 flags, warmed up alike
 *  (uncounted), then measured in alternating blocks so that the machine's load falls on both;
 *  3. idle footprint (RSS, CPU) of the demo process vs an idle node process with the same loader.
 * Run from the repo root with the services up: pnpm exec tsx bench/core/run.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { DEFAULT_PROFILE, Pca9685, buildSimulation, systemClock } from '@growoff/hal';
import { topics } from '@growoff/protocol';
import { freePort, getService, waitUntil } from '@growoff/test-services';
import { coreConfigFromEnv } from '../../apps/core/src/config/env-config';
import { startCore } from '../../apps/core/src/core';
import { imageNodeEnv, imageNodeFlags } from '../image-flags';
import { benchResult } from '../result';

// The core runs in this process with the V8 flags and allocator settings a module gives it (the
// image's CMD and GLIBC_TUNABLES), as bench/apps and bench/tunnel run the built apps; the baselines
// here share them. With node's defaults (16 MiB
// semi-spaces, four V8 worker threads beside the broker on two cores) the p99s measured a setting
// no module runs.
const flags = imageNodeFlags();
const imageEnv = imageNodeEnv('core');
if (
  !flags.every((flag) => process.execArgv.includes(flag)) ||
  process.env.GLIBC_TUNABLES !== imageEnv.GLIBC_TUNABLES
) {
  const run = spawnSync(process.execPath, [...flags, ...process.execArgv, import.meta.filename], {
    stdio: 'inherit',
    env: { ...process.env, GLIBC_TUNABLES: imageEnv.GLIBC_TUNABLES },
  });
  process.exit(run.status ?? 1);
}

const fromCore = createRequire(new URL('../../apps/core/package.json', import.meta.url));
const mqtt = (await import(fromCore.resolve('mqtt'))) as typeof import('mqtt');
const { default: Fastify } = (await import(fromCore.resolve('fastify'))) as typeof import('fastify');

// 5000, so that a p99 is the 50th slowest round trip, not the 10th: one spell of the machine's noise
// moved a 1000-round-trip p99 ratio between 1.05x and 1.59x in five runs of the same code.
const ROUND_TRIPS = 5000;
// Enough for V8 to have optimised the hot path: after 300, about 75 functions of the command path were
// still compiled by TurboFan during the counted round trips (--trace-opt), and a compile's work on
// the two cores shows as a stall; after 3000, about 15.
const WARMUP_ROUND_TRIPS = 3000;
// Small blocks (50 round trips), so that a spell of load on the machine falls on every side alike.
const BLOCKS = 100;
const HTTP_SECONDS = 5;
const HTTP_CONCURRENCY = 16;
// The idle footprint is measured over a minute unless BENCH_IDLE_SECONDS says otherwise.
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (n: number) => `${n.toFixed(2)} ms`;

const broker = getService('mosquitto');
const moduleId = `core-bench-${process.pid}`;
const dataDir = await mkdtemp(join(tmpdir(), 'core-bench-'));
const core = await startCore(
  coreConfigFromEnv({
    GROWOFF_MODULE_ID: moduleId,
    GROWOFF_MQTT_URL: broker.url,
    GROWOFF_HTTP_PORT: '0',
    GROWOFF_DATA_DIR: dataDir,
  }),
  { seed: 1 },
);
// No control loop may touch the light while we drive it.
await core.commands.execute(
  'set_config',
  { light: { enabled: false }, climate: { enabled: false }, irrigation: { enabled: false } },
  'rest',
);
await waitUntil('first samples', () => core.store.readings().length >= 8, 10_000);

// 1. MQTT round trips. Each side first runs WARMUP_ROUND_TRIPS that are not counted (both share this
// process's mqtt.js, so whichever ran first would also warm the other's code and be measured cold);
// then the counted ones alternate in BLOCKS, so that a spell of load on the machine falls on both.
async function roundTripper(
  send: (client: import('mqtt').MqttClient, i: number) => void,
  match: (topic: string, payload: Buffer, i: number) => boolean,
  subscribe: string,
) {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  await client.subscribeAsync(subscribe, { qos: 0 });
  let i = 0;
  /** Runs `count` round trips; with `spans`, records each one's start and end (performance.now()). */
  const run = async (count: number, spans?: [number, number][]) => {
    for (const end = i + count; i < end; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const n = i;
        const onMessage = (topic: string, payload: Buffer) => {
          if (!match(topic, payload, n)) return;
          client.off('message', onMessage);
          resolve();
        };
        client.on('message', onMessage);
        send(client, n);
      });
      spans?.push([t0, performance.now()]);
    }
  };
  return { run, end: () => client.endAsync() };
}

const levelOf = (i: number) => (i % 2 === 0 ? 30 : 60) + (i % 7);
/** A side that sets the light of module `id` to a new level each time and waits for its state. */
function lightSetter(id: string) {
  let lastLevel = -1;
  return roundTripper(
    (c, i) => {
      let level = levelOf(i);
      if (level === lastLevel) level += 1;
      lastLevel = level;
      c.publish(topics.actuatorSet(id, 'light'), JSON.stringify({ level }), { qos: 0 });
    },
    (topic, payload) =>
      topic === topics.actuator(id, 'light') &&
      (JSON.parse(payload.toString()) as { level: number }).level === lastLevel,
    topics.actuator(id, 'light'),
  );
}
const coreSide = await lightSetter(moduleId);

// The least a core does for a command, subscribed as the core's link is (QoS 1, Retain As Published,
// the `+/set` filter, no Nagle): parse, check, write the light's channel, read it back, publish.
const floorId = `${moduleId}-floor`;
const floorDir = await mkdtemp(join(tmpdir(), 'core-bench-floor-'));
const floorSim = await buildSimulation(DEFAULT_PROFILE, systemClock, floorDir, 1);
const light = DEFAULT_PROFILE.actuators.find((a) => a.id === 'light')!;
const pca = new Pca9685(light.device, floorSim.bus, 0x40, systemClock);
await pca.init();
const floorClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
(floorClient.stream as unknown as { setNoDelay: (on: boolean) => void }).setNoDelay(true);
await floorClient.subscribeAsync({ [topics.allActuatorSets(floorId)]: { qos: 1, rap: true } });
floorClient.on('message', (topic, payload) => {
  void (async () => {
    const { level } = JSON.parse(payload.toString()) as { level: unknown };
    if (typeof level !== 'number' || !(level >= 0 && level <= 100)) return;
    await pca.write(light.output, level / 100);
    if (Math.abs((await pca.readBack(light.output)) - level / 100) > 0.001) return;
    floorClient.publish(topic.slice(0, -'/set'.length), JSON.stringify({ level, ts: Date.now() }), {
      qos: 0,
      retain: true,
    });
  })();
});
const floorSide = await lightSetter(floorId);

const echoTopic = `bench-core/${moduleId}`;
const echo = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
await echo.subscribeAsync(`${echoTopic}/req`);
echo.on('message', (_t, payload) => echo.publish(`${echoTopic}/res`, payload));
const bareSide = await roundTripper(
  (c, i) => c.publish(`${echoTopic}/req`, JSON.stringify({ i }), { qos: 0 }),
  (topic, payload, i) =>
    topic === `${echoTopic}/res` && (JSON.parse(payload.toString()) as { i: number }).i === i,
  `${echoTopic}/res`,
);
// Why the p99s move between runs: the share of each side's counted round trips that a garbage
// collection (nearly all scavenges of the 1 MiB young generation) fell into. Where a side's share is
// near 1 %, its p99 is a round trip with a collection in one run and one without in the next.
const spans = {
  core: [] as [number, number][],
  bare: [] as [number, number][],
  floor: [] as [number, number][],
};
const collections: [number, number][] = [];
const recordCollections = (entries: PerformanceEntry[]) => {
  for (const e of entries) collections.push([e.startTime, e.startTime + e.duration]);
};
const gcObserver = new PerformanceObserver((list) => recordCollections(list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });
const withCollection = (side: [number, number][]) =>
  side.filter(([a, b]) => collections.some(([c, d]) => c < b && d > a)).length / side.length;
await coreSide.run(WARMUP_ROUND_TRIPS);
await bareSide.run(WARMUP_ROUND_TRIPS);
await floorSide.run(WARMUP_ROUND_TRIPS);
for (let b = 0; b < BLOCKS; b++) {
  await coreSide.run(ROUND_TRIPS / BLOCKS, spans.core);
  await bareSide.run(ROUND_TRIPS / BLOCKS, spans.bare);
  await floorSide.run(ROUND_TRIPS / BLOCKS, spans.floor);
}
// Entries not yet handed to the callback.
recordCollections(gcObserver.takeRecords());
gcObserver.disconnect();
const durations = (side: [number, number][]) => side.map(([t0, t1]) => t1 - t0);
const coreTimes = durations(spans.core);
const bareTimes = durations(spans.bare);
const floorTimes = durations(spans.floor);
await coreSide.end();
await bareSide.end();
await floorSide.end();
await echo.endAsync();
await floorClient.endAsync();

// 2. REST throughput: a warm-up second each, then HTTP_SECONDS each in alternating one-second slices.
async function requests(url: string, seconds: number): Promise<number> {
  let count = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: HTTP_CONCURRENCY }, async () => {
      while (Date.now() < until) {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
        count++;
      }
    }),
  );
  return count;
}
const sensorsJson = await (await fetch(`${core.httpUrl}/api/v1/sensors`)).json();
const bare = Fastify();
bare.get('/api/v1/sensors', () => sensorsJson);
await bare.listen({ host: '127.0.0.1', port: 0 });
const bareAddress = bare.server.address() as { port: number };
const coreUrl = `${core.httpUrl}/api/v1/sensors`;
const bareUrl = `http://127.0.0.1:${bareAddress.port}/api/v1/sensors`;
await requests(coreUrl, 1);
await requests(bareUrl, 1);
let coreCount = 0;
let bareCount = 0;
for (let s = 0; s < HTTP_SECONDS; s++) {
  coreCount += await requests(coreUrl, 1);
  bareCount += await requests(bareUrl, 1);
}
const coreRps = coreCount / HTTP_SECONDS;
const bareRps = bareCount / HTTP_SECONDS;
await bare.close();
await core.stop();
// The ratios for `npm run bench` now, so that a slow idle measurement below cannot lose them.
benchResult('core', [
  { id: 'core.commandP99', value: pct(coreTimes, 99), baseline: pct(bareTimes, 99), unit: 'ms' },
  { id: 'core.commandP50', value: pct(coreTimes, 50), baseline: pct(bareTimes, 50), unit: 'ms' },
  { id: 'core.commandFloorP99', value: pct(floorTimes, 99), baseline: pct(bareTimes, 99), unit: 'ms' },
  { id: 'core.commandFloorP50', value: pct(floorTimes, 50), baseline: pct(bareTimes, 50), unit: 'ms' },
  { id: 'core.sensorsRps', value: coreRps, baseline: bareRps, unit: 'req/s' },
]);

// 3. Idle footprint of the demo process (embedded broker, simulated cabinet) vs an idle node with the same loader.
async function footprint(args: string[], env: NodeJS.ProcessEnv, ready: (out: string) => boolean) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: new URL('../../apps/core/', import.meta.url).pathname,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil('process ready', () => ready(out), 30_000);
  await new Promise((r) => setTimeout(r, 3000)); // let start-up work settle
  const cpu = async () => {
    const f = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  };
  const rss = async () =>
    Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
  const c0 = await cpu();
  const t0 = Date.now();
  const samples: number[] = [];
  while (Date.now() - t0 < IDLE_SECONDS * 1000) {
    samples.push(await rss());
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cpuPct = (((await cpu()) - c0) / ((Date.now() - t0) / 1000)) * 100;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { rssMb: samples.reduce((a, b) => a + b, 0) / samples.length, cpuPct };
}
const idleDir = await mkdtemp(join(tmpdir(), 'core-bench-idle-'));
const demo = await footprint(
  ['src/main.ts'],
  {
    GROWOFF_MODULE_ID: `${moduleId}-idle`,
    GROWOFF_MQTT_URL: '',
    GROWOFF_MQTT_EMBEDDED_PORT: String(await freePort()),
    GROWOFF_HTTP_PORT: String(await freePort()),
    GROWOFF_DATA_DIR: idleDir,
  },
  (out) => out.includes('running'),
);
const idleNode = await footprint(['-e', 'console.log("ready"); setInterval(() => {}, 1000)'], {}, (out) =>
  out.includes('ready'),
);

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
console.log(
  `core bench (${ROUND_TRIPS} round trips, ${HTTP_SECONDS} s of HTTP at concurrency ${HTTP_CONCURRENCY}, ${IDLE_SECONDS} s idle window)`,
);
console.log(
  `command → applied → state published: p50 ${ms(pct(coreTimes, 50))} p99 ${ms(pct(coreTimes, 99))} | bare mqtt.js echo: p50 ${ms(pct(bareTimes, 50))} p99 ${ms(pct(bareTimes, 99))} | ratio p50 ${ratio(pct(coreTimes, 50), pct(bareTimes, 50))} p99 ${ratio(pct(coreTimes, 99), pct(bareTimes, 99))}`,
);
console.log(
  `the least a core does (parse, PCA9685 write + read-back, retained state): p50 ${ms(pct(floorTimes, 50))} p99 ${ms(pct(floorTimes, 99))} | ratio to the echo p50 ${ratio(pct(floorTimes, 50), pct(bareTimes, 50))} p99 ${ratio(pct(floorTimes, 99), pct(bareTimes, 99))}`,
);
const share = (side: [number, number][]) => `${(withCollection(side) * 100).toFixed(1)} %`;
console.log(
  `round trips with a garbage collection in them: core ${share(spans.core)}, echo ${share(spans.bare)}, the least a core does ${share(spans.floor)}`,
);
console.log(
  `GET /api/v1/sensors: ${coreRps.toFixed(0)} req/s | bare fastify: ${bareRps.toFixed(0)} req/s | ratio ${ratio(coreRps, bareRps)}`,
);
console.log(
  `idle demo: RSS ${demo.rssMb.toFixed(1)} MiB, CPU ${demo.cpuPct.toFixed(2)} % | idle node+tsx: RSS ${idleNode.rssMb.toFixed(1)} MiB, CPU ${idleNode.cpuPct.toFixed(2)} % | RSS ratio ${ratio(demo.rssMb, idleNode.rssMb)}`,
);
for (const dir of [dataDir, floorDir, idleDir]) await rm(dir, { recursive: true, force: true });
process.exit(0);
