import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { createTelemetry } from '@growoff/telemetry';
import { HARD_MODULE } from './hard-points';
import { countOf, createDb, dropDb, removeTempDirs, rows, tempDataDir, uniqueDb } from './influx';
import { writeAndReadBackHardPoints } from './round-trip';

describe('delivery to InfluxDB 1.x /write', () => {
  const influx = getService('influxdb');
  const dbs: string[] = [];
  const db = async (label: string) => {
    const name = uniqueDb(label);
    dbs.push(name);
    await createDb(influx.url, name);
    return name;
  };

  beforeAll(() => expect(influx.version).toMatch(/^1\./));
  afterAll(async () => {
    for (const name of dbs) await dropDb(influx.url, name);
    removeTempDirs();
  });

  it('stores every point with its tags, field types and timestamp, escaping included (api v1)', async () => {
    const name = await db('v1');
    const t = await createTelemetry({
      module: HARD_MODULE,
      url: influx.url,
      api: 'v1',
      bucket: name,
      dataDir: tempDataDir('v1'),
      flushIntervalMs: 50,
    });
    await writeAndReadBackHardPoints(t, influx.url, name);
    expect(t.stats().sink).toBe(`influxdb-v1 ${influx.url}`);
    await t.close();
  });

  it('picks the v1 API by /ping when api is auto, and sends rp and basic auth the server accepts', async () => {
    const name = await db('auto');
    const t = await createTelemetry({
      module: HARD_MODULE,
      url: `${influx.url}/`,
      bucket: name,
      retentionPolicy: 'autogen',
      username: 'growoff',
      password: 'unused-without-auth',
      dataDir: tempDataDir('auto'),
      flushIntervalMs: 50,
    });
    expect(t.stats().sink).toBe(`auto ${influx.url}`);
    await writeAndReadBackHardPoints(t, influx.url, name);
    expect(t.stats().sink).toBe(`influxdb-v1 ${influx.url}`);
    await t.close();
  });

  it('stores every event of one type raised in the same millisecond: count() equals the events sent', async () => {
    const name = await db('same_ms');
    const t = await createTelemetry({
      module: 'same-ms',
      url: influx.url,
      api: 'v1',
      bucket: name,
      dataDir: tempDataDir('same-ms'),
      flushIntervalMs: 50,
    });
    const ts = 1_700_000_000_123;
    for (let i = 0; i < 250; i += 1) {
      expect(
        t.event({ type: 'command.rejected', severity: 'warning', message: `bad ${i}`, data: { i }, ts }),
      ).toBe(true);
    }
    // Another series in the same millisecond keeps its own count from 0.
    t.event({ type: 'pump.max_run', severity: 'warning', message: 'other', ts });
    await t.flush();
    expect(t.stats()).toMatchObject({ produced: 251, delivered: 251, dropped: {}, queued: 0 });
    expect(await countOf(influx.url, name, 'event', 'message')).toBe(251);
    const stored = await rows(
      influx.url,
      name,
      `SELECT message, "type" FROM event WHERE "type" = 'command.rejected'`,
    );
    expect(new Set(stored.map((r) => r.message)).size).toBe(250);
    // Each keeps the millisecond it was raised in.
    expect(stored.every((r) => r.time === ts)).toBe(true);
    await t.close();
  });
});
