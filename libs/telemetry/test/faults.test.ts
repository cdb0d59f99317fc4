import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, getService, startInfluxDb, stopProcess, type InfluxDbInfo } from '@growoff/test-services';
import { createTelemetry, QUARANTINE_NAME, type Telemetry } from '@growoff/telemetry';
import {
  closeServer,
  countOf,
  createDb,
  dropDb,
  listen,
  rows,
  removeTempDirs,
  startFaultProxy,
  tempDataDir,
  uniqueDb,
} from './influx';
import { BASE_TS, expectExactlyStored } from './stored';

function produce(t: Telemetry, from: number, to: number): void {
  for (let i = from; i < to; i += 1)
    t.metric({ sensor: 'counter', unit: 'n', value: i, quality: 'ok', ts: BASE_TS + i });
}

describe('fault suite: InfluxQL count() equals produced minus counted drops', () => {
  const shared = getService('influxdb');
  const dbs: string[] = [];
  const newDb = async (label: string, url = shared.url) => {
    const name = uniqueDb(label);
    if (url === shared.url) dbs.push(name);
    await createDb(url, name);
    return name;
  };
  afterAll(async () => {
    for (const name of dbs) await dropDb(shared.url, name);
    removeTempDirs();
  });

  describe('with a private InfluxDB that is stopped and started again', () => {
    let influx: InfluxDbInfo;
    let dir: string;
    let rpcPort: number;
    beforeAll(async () => {
      dir = tempDataDir('influxd');
      rpcPort = await freePort();
      influx = await startInfluxDb({ dir, port: await freePort(), rpcPort });
    });
    afterAll(async () => {
      await stopProcess(influx.pid);
    });

    it('keeps points produced while the sink is down and delivers them in order once it is back', async () => {
      const db = await newDb('outage', influx.url);
      const t = await createTelemetry({
        module: 'outage',
        url: influx.url,
        bucket: db,
        dataDir: tempDataDir('outage'),
        flushIntervalMs: 20,
        batchSize: 1000,
      });
      produce(t, 0, 2000);
      await t.flush();
      await stopProcess(influx.pid);
      produce(t, 2000, 5000);
      await expect.poll(() => t.stats().lastError, { timeout: 5000 }).toMatch(/cannot reach|ECONNREFUSED/);
      expect(t.stats().queued).toBeGreaterThan(0);
      influx = await startInfluxDb({ dir, port: influx.port, rpcPort });
      await t.flush();
      expect(t.stats()).toMatchObject({ produced: 5000, delivered: 5000, dropped: {} });
      await expectExactlyStored(influx.url, db, t.stats());
      await t.close();
    });
  });

  it('loses nothing when the process is SIGKILLed in the middle of writing and started again', async () => {
    const db = await newDb('sigkill');
    const dataDir = tempDataDir('sigkill');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures/produce-until-killed.ts'),
        dataDir,
        shared.url,
        db,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let reported = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      const last = chunk.toString().trim().split('\n').at(-1);
      if (last) reported = Number(last);
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Killed while it is both appending and delivering.
    await expect.poll(() => reported, { timeout: 20_000, interval: 20 }).toBeGreaterThan(20_000);
    await expect
      .poll(() => countOf(shared.url, db, 'sensor', 'value'), { timeout: 10_000, interval: 20 })
      .toBeGreaterThan(0);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const t = await createTelemetry({
      module: 'killed',
      url: shared.url,
      bucket: db,
      dataDir,
      flushIntervalMs: 20,
    });
    const before = t.stats();
    expect(before.produced).toBeGreaterThanOrEqual(reported);
    expect(before.queued).toBeGreaterThan(0);
    await t.flush();
    const after = t.stats();
    expect(after).toMatchObject({ produced: before.produced, dropped: {}, queued: 0 });
    await expectExactlyStored(shared.url, db, after);
    // No gaps: values 0 .. produced-1 are all there.
    const [max] = await rows(shared.url, db, 'SELECT max(value) FROM sensor');
    expect(max?.max).toBe(after.produced - 1);
    await t.close();
  });

  it('drops the newest points as queue_full when the disk queue is full, and delivers the rest later', async () => {
    const dataDir = tempDataDir('full');
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    const down = await createTelemetry({
      module: 'full',
      url: unreachable,
      api: 'v1',
      bucket: 'none',
      dataDir,
      maxQueueBytes: 64 * 1024,
      flushIntervalMs: 20,
    });
    produce(down, 0, 2000);
    const full = down.stats();
    expect(full.dropped.queue_full).toBeGreaterThan(0);
    expect(full.queued + (full.dropped.queue_full ?? 0)).toBe(2000);
    expect(full.queuedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(full.backpressure).toBe(true);
    await down.close({ deadlineMs: 50 });

    const db = await newDb('full');
    const up = await createTelemetry({
      module: 'full',
      url: shared.url,
      bucket: db,
      dataDir,
      flushIntervalMs: 20,
    });
    expect(up.stats()).toMatchObject({ produced: 2000, queued: full.queued, dropped: full.dropped });
    await up.whenWritable();
    await up.flush();
    await expectExactlyStored(shared.url, db, up.stats());
    // The oldest points were kept: 0 .. queued-1.
    expect(await countOf(shared.url, db, 'sensor', 'value')).toBe(full.queued);
    const [max] = await rows(shared.url, db, 'SELECT max(value) FROM sensor');
    expect(max?.max).toBe(full.queued - 1);
    await up.close();
  });

  it('reads on past a record damaged in the middle of the queue file and counts the one it lost', async () => {
    const dataDir = tempDataDir('rot');
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    const down = await createTelemetry({
      module: 'rot',
      url: unreachable,
      api: 'v1',
      bucket: 'none',
      dataDir,
    });
    produce(down, 0, 1000);
    await down.close({ deadlineMs: 50 });
    const queueDir = join(dataDir, 'telemetry-queue');
    const segment = join(queueDir, readdirSync(queueDir).find((f) => f.endsWith('.seg')) as string);
    const bytes = readFileSync(segment);
    // A flipped bit in a record near the middle of the file, as a worn SD card returns it.
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] as number) ^ 0x10;
    writeFileSync(segment, bytes);

    const db = await newDb('rot');
    const up = await createTelemetry({
      module: 'rot',
      url: shared.url,
      bucket: db,
      dataDir,
      flushIntervalMs: 20,
    });
    await up.flush();
    const s = up.stats();
    expect(s).toMatchObject({ produced: 1000, delivered: 999, dropped: { corrupt: 1 }, lost: 1, queued: 0 });
    await expectExactlyStored(shared.url, db, s);
    const [max] = await rows(shared.url, db, 'SELECT max(value) FROM sensor');
    expect(max?.max).toBe(999);
    await up.close();
  });

  it('isolates and quarantines a point the server refuses while the good ones around it are stored', async () => {
    const db = await newDb('malformed');
    const dataDir = tempDataDir('malformed');
    const t = await createTelemetry({
      module: 'malformed',
      url: shared.url,
      bucket: db,
      dataDir,
      flushIntervalMs: 20,
    });
    produce(t, 0, 500);
    // InfluxDB cannot store this timestamp (beyond int64 nanoseconds); the server refuses it.
    t.metric({ sensor: 'counter', unit: 'n', value: 1e17, quality: 'ok', ts: 1e17 });
    // These the library refuses itself.
    t.metric({ sensor: 'counter', unit: 'n', value: Number.NaN, quality: 'ok' });
    t.metric({ sensor: 'ends with\\', unit: 'n', value: 1, quality: 'ok' });
    produce(t, 500, 1000);
    await t.flush();
    const s = t.stats();
    expect(s).toMatchObject({
      produced: 1003,
      delivered: 1000,
      dropped: { rejected: 1, invalid: 2 },
      queued: 0,
    });
    await expectExactlyStored(shared.url, db, s);
    const quarantined = readFileSync(join(dataDir, QUARANTINE_NAME), 'utf8');
    expect(quarantined).toMatch(
      /^# \S+ rejected: .*out(side)? (of )?range.*\nsensor,module=malformed,sensor=counter,unit=n quality="ok",value=100000000000000000 100000000000000000000000\n$/,
    );
    await t.close();
  });

  it('waits as long as a 429 Retry-After says, then delivers', async () => {
    const db = await newDb('throttled');
    const proxy = await startFaultProxy(shared.url, (n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : n === 2 ? { status: 503 } : undefined,
    );
    const t = await createTelemetry({
      module: 'throttled',
      url: proxy.url,
      api: 'v1',
      bucket: db,
      dataDir: tempDataDir('throttled'),
      flushIntervalMs: 20,
    });
    produce(t, 0, 100);
    await t.flush();
    expect(proxy.writes).toHaveLength(3);
    expect((proxy.writes[1] as number) - (proxy.writes[0] as number)).toBeGreaterThanOrEqual(950);
    await expectExactlyStored(shared.url, db, t.stats());
    await t.close();
    await proxy.close();
  });

  it('closes within its deadline while the sink hangs, keeping the undelivered points on disk', async () => {
    const hanging = createServer((req) => req.resume());
    const hangingUrl = await listen(hanging);
    const dataDir = tempDataDir('deadline');
    const t = await createTelemetry({
      module: 'deadline',
      url: hangingUrl,
      api: 'v1',
      bucket: 'x',
      dataDir,
      flushIntervalMs: 20,
    });
    produce(t, 0, 300);
    const started = Date.now();
    await t.close({ deadlineMs: 300 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(t.metric({ sensor: 'late', unit: 'n', value: 1, quality: 'ok' })).toBe(false);
    await closeServer(hanging);

    const db = await newDb('deadline');
    const again = await createTelemetry({
      module: 'deadline',
      url: shared.url,
      bucket: db,
      dataDir,
      flushIntervalMs: 20,
    });
    expect(again.stats()).toMatchObject({ produced: 300, queued: 300, delivered: 0 });
    await again.flush();
    await expectExactlyStored(shared.url, db, again.stats());
    await again.close();
  });
});
