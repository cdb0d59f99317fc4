// Telemetry benchmark: points/second delivered into the real InfluxDB 1.6.7 by the durable queue
// (@growoff/telemetry) versus the bare @influxdata/influxdb-client WriteApi, on the same data in the
// same run; then the queue's memory with a million points waiting for an unreachable sink; then the
// event-loop lag (the delay of the thread that runs the HAL timers and control loops) while a
// 1,000,000-point backlog drains into InfluxDB (goal: p99 ≤ 10 ms).
// `pnpm exec tsx bench/telemetry/run.ts drain` runs only the last part.
//
// InfluxDB 1.6 has no /api/v2/write, which the bare WriteApi speaks; both contenders therefore go
// through the same loopback translation (/api/v2/write?bucket= → /write?db=), and the durable queue
// is also measured straight on /write.
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_SENSOR_IDS } from '@growoff/hal';
import { createTelemetry, type Telemetry } from '@growoff/telemetry';
import { freePort, getService } from '@growoff/test-services';
import { benchResult, median } from '../result';

// The client is a dependency of @growoff/telemetry, not of the root: resolve it from there.
const fromTelemetry = createRequire(new URL('../../libs/telemetry/package.json', import.meta.url));
const { InfluxDB, Point } = fromTelemetry(
  '@influxdata/influxdb-client',
) as typeof import('@influxdata/influxdb-client');

const POINTS = 100_000;
const WAITING = 1_000_000;
const BATCH = 5000;
/** Measured rounds of each contender, alternated. */
const ROUNDS = 6;
const BASE_TS = 1_700_000_000_000;

const influx = getService('influxdb');
const runId = Math.random().toString(36).slice(2, 8);
const databases: string[] = [];

async function influxQl(q: string, db?: string): Promise<unknown[][]> {
  const params = new URLSearchParams({ q });
  if (db) params.set('db', db);
  const res = await fetch(`${influx.url}/query`, { method: 'POST', body: params });
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return body.results[0]?.series?.[0]?.values ?? [];
}

async function newDb(label: string): Promise<string> {
  const db = `telemetry_bench_${label}_${runId}`;
  databases.push(db);
  await influxQl(`CREATE DATABASE "${db}"`);
  return db;
}

async function stored(db: string): Promise<number> {
  const [row] = await influxQl('SELECT count(value) FROM sensor', db);
  return Number(row?.[1] ?? 0);
}

/**
 * Queues points as a producer should: the queue writes in the background and holds at most 8 MiB
 * waiting for the disk, so a long synchronous burst yields until its lines are written.
 */
async function produce(t: Telemetry, count: number, point: (i: number) => (typeof readings)[number]) {
  for (let i = 0; i < count; i += 1) {
    if (!t.metric(point(i))) throw new Error(`point ${i} refused: ${t.stats().lastError}`);
    if (i % 20_000 === 19_999) await t.written();
  }
}

const readings = Array.from({ length: POINTS }, (_, i) => ({
  sensor: DEFAULT_SENSOR_IDS[i % DEFAULT_SENSOR_IDS.length] as string,
  unit: 'u',
  value: 20 + (i % 1000) / 100,
  quality: 'ok',
  ts: BASE_TS + i,
}));

/**
 * The v2 write API over InfluxDB 1.x, bodies untouched, in its own process so it does not share
 * the event loop of the contenders.
 */
const TRANSLATION = `
const http = require('node:http');
const influx = new URL(process.argv[1]);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const target = new URL('/write', influx);
  target.searchParams.set('db', url.searchParams.get('bucket') || '');
  target.searchParams.set('precision', url.searchParams.get('precision') || 'ns');
  const upstream = http.request(target, { method: 'POST', headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode || 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.writeHead(502).end());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startTranslation(): Promise<{ url: string; close: () => void }> {
  const child = spawn(process.execPath, ['-e', TRANSLATION, influx.url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', () => reject(new Error('the translation process exited')));
  });
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() };
}

async function bareWriteApi(url: string): Promise<number> {
  const db = await newDb('bare');
  // WriteApi.close() does not wait for batches already sent; writeSuccess says when lines landed.
  let confirmed = 0;
  let allDelivered: () => void = () => undefined;
  const delivered = new Promise<void>((resolve) => {
    allDelivered = resolve;
  });
  const writeApi = new InfluxDB({ url, token: 'bench' }).getWriteApi('growoff', db, 'ms', {
    batchSize: BATCH,
    flushInterval: 1000,
    maxBufferLines: POINTS,
    writeSuccess: (lines) => {
      confirmed += lines.length;
      if (confirmed >= POINTS) allDelivered();
    },
  });
  writeApi.useDefaultTags({ module: 'bench' });
  const started = performance.now();
  for (const r of readings) {
    writeApi.writePoint(
      new Point('sensor')
        .tag('sensor', r.sensor)
        .tag('unit', r.unit)
        .floatField('value', r.value)
        .stringField('quality', r.quality)
        .timestamp(r.ts),
    );
  }
  await writeApi.flush();
  await delivered;
  const seconds = (performance.now() - started) / 1000;
  await writeApi.close();
  const count = await stored(db);
  if (count !== POINTS) throw new Error(`bare WriteApi stored ${count} of ${POINTS}`);
  return POINTS / seconds;
}

async function durableQueue(url: string, api: 'v1' | 'v2'): Promise<number> {
  const db = await newDb(`durable_${api}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-bench-'));
  const t = await createTelemetry({
    module: 'bench',
    url,
    api,
    bucket: db,
    token: 'bench',
    dataDir,
    batchSize: BATCH,
    maxQueueBytes: 256 * 1024 * 1024,
  });
  const started = performance.now();
  await produce(t, POINTS, (i) => readings[i] as (typeof readings)[number]);
  await t.flush();
  const seconds = (performance.now() - started) / 1000;
  await t.close();
  rmSync(dataDir, { recursive: true, force: true });
  const count = await stored(db);
  if (count !== POINTS) throw new Error(`durable queue stored ${count} of ${POINTS}`);
  return POINTS / seconds;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function memoryWithMillionWaiting(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-bench-mem-'));
  const unreachable = `http://127.0.0.1:${await freePort()}`;
  const t = await createTelemetry({
    module: 'bench',
    url: unreachable,
    api: 'v1',
    dataDir,
    maxQueueBytes: 1024 * 1024 * 1024,
  });
  gc();
  const before = process.memoryUsage();
  const started = performance.now();
  await produce(t, WAITING, (i) => ({
    ...(readings[i % POINTS] as (typeof readings)[number]),
    ts: BASE_TS + i,
  }));
  const appendSeconds = (performance.now() - started) / 1000;
  gc();
  const after = process.memoryUsage();
  const s = t.stats();
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    `queue with ${s.queued.toLocaleString('en')} points waiting (${mb(s.queuedBytes)} MiB on disk):`,
  );
  console.log(
    `  heap used  ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MiB (Δ ${mb(after.heapUsed - before.heapUsed)} MiB)`,
  );
  console.log(
    `  external   ${mb(before.external)} → ${mb(after.external)} MiB (Δ ${mb(after.external - before.external)} MiB)`,
  );
  console.log(`  rss        ${mb(before.rss)} → ${mb(after.rss)} MiB (Δ ${mb(after.rss - before.rss)} MiB)`);
  console.log(
    `  enqueue rate ${Math.round(WAITING / appendSeconds).toLocaleString('en')} points/s (line building, checksum and the file append)`,
  );
  await t.close({ deadlineMs: 100 });
  rmSync(dataDir, { recursive: true, force: true });
}

/** Event-loop lag while a backlog of a million points (queued with the sink away) drains into InfluxDB. */
async function lagWhileDraining(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-bench-drain-'));
  const options = { module: 'bench', api: 'v1' as const, dataDir, maxQueueBytes: 1024 * 1024 * 1024 };
  const away = await createTelemetry({ ...options, url: `http://127.0.0.1:${await freePort()}` });
  await produce(away, WAITING, (i) => ({
    ...(readings[i % POINTS] as (typeof readings)[number]),
    ts: BASE_TS + i,
  }));
  await away.close({ deadlineMs: 100 });

  const db = await newDb('drain');
  const t = await createTelemetry({ ...options, url: influx.url, bucket: db, batchSize: BATCH });
  const backlog = t.stats().queued;
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const started = performance.now();
  await t.flush();
  const seconds = (performance.now() - started) / 1000;
  lag.disable();
  const load = loadavg().map((n) => n.toFixed(2));
  await t.close();
  rmSync(dataDir, { recursive: true, force: true });
  const count = await stored(db);
  if (count !== WAITING) throw new Error(`the drained backlog stored ${count} of ${WAITING}`);
  const ms = (ns: number) => (ns / 1e6).toFixed(2);
  console.log(
    `draining a backlog of ${backlog.toLocaleString('en')} points into InfluxDB /write: ${seconds.toFixed(1)} s (${Math.round(backlog / seconds).toLocaleString('en')} points/s)`,
  );
  console.log(
    `  event-loop lag  p50 ${ms(lag.percentile(50))} ms  p99 ${ms(lag.percentile(99))} ms  max ${ms(lag.max)} ms  (goal p99 ≤ 10 ms; ${lag.count} samples at 1 ms)`,
  );
  console.log(`  load average    ${load.join(' ')} (1, 5, 15 min; ${availableParallelism()} CPUs, shared)`);
}

const drainOnly = process.argv.includes('drain');
const translation = drainOnly ? undefined : await startTranslation();
try {
  if (drainOnly || !translation) {
    await lagWhileDraining();
  } else {
    console.log(
      `InfluxDB ${influx.version} at ${influx.url}; ${POINTS.toLocaleString('en')} points, batches of ${BATCH}`,
    );
    // One unmeasured round warms both paths (JIT, sockets, InfluxDB's shard) before the measured ones.
    await bareWriteApi(translation.url);
    await durableQueue(translation.url, 'v2');
    // Alternating rounds, compared by their medians: one round of either moved by up to 30 % against
    // the round before it here (InfluxDB's own flushes, the disk), so best-of-two compared two draws.
    const bare: number[] = [];
    const durableV2: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      bare.push(await bareWriteApi(translation.url));
      durableV2.push(await durableQueue(translation.url, 'v2'));
    }
    const durableV1 = await durableQueue(influx.url, 'v1');
    const fmt = (n: number) => Math.round(n).toLocaleString('en').padStart(9);
    const rounds = (xs: number[]) => xs.map((x) => `${Math.round(x / 1000)}k`).join(' ');
    console.log(
      `bare WriteApi (v2 via translation)  ${fmt(median(bare))} points/s delivered (median of ${bare.length}: ${rounds(bare)})`,
    );
    console.log(
      `durable queue (v2 via translation)  ${fmt(median(durableV2))} points/s delivered (median of ${durableV2.length}: ${rounds(durableV2)})   ratio ${(median(durableV2) / median(bare)).toFixed(2)}`,
    );
    console.log(
      `durable queue (v1 /write, direct)   ${fmt(durableV1)} points/s delivered (one round)   ratio ${(durableV1 / median(bare)).toFixed(2)}`,
    );
    await memoryWithMillionWaiting();
    await lagWhileDraining();
    benchResult('telemetry', [
      { id: 'telemetry.throughput', value: median(durableV2), baseline: median(bare), unit: 'points/s' },
    ]);
  }
} finally {
  translation?.close();
  for (const db of databases) await influxQl(`DROP DATABASE "${db}"`);
}
