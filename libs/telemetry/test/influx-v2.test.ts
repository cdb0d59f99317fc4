import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { createTelemetry } from '@growoff/telemetry';
import { HARD_MODULE } from './hard-points';
import {
  createDb,
  dropDb,
  startV2Proxy,
  removeTempDirs,
  tempDataDir,
  uniqueDb,
  type V2Proxy,
} from './influx';
import { writeAndReadBackHardPoints } from './round-trip';

describe('delivery through the v2 write API (translated to a real InfluxDB 1.x)', () => {
  const influx = getService('influxdb');
  const token = 'telemetry-test-token';
  const dbs: string[] = [];
  let proxy: V2Proxy;

  beforeAll(async () => {
    proxy = await startV2Proxy(influx.url, token);
  });
  afterAll(async () => {
    await proxy.close();
    for (const name of dbs) await dropDb(influx.url, name);
    removeTempDirs();
  });

  for (const api of ['v2', 'auto'] as const) {
    it(`sends gzipped bodies with the token to /api/v2/write and every point reads back (api ${api})`, async () => {
      const name = uniqueDb(`v2${api}`);
      dbs.push(name);
      await createDb(influx.url, name);
      const t = await createTelemetry({
        module: HARD_MODULE,
        url: proxy.url,
        api,
        bucket: name,
        token,
        dataDir: tempDataDir('v2'),
        flushIntervalMs: 50,
      });
      await writeAndReadBackHardPoints(t, influx.url, name);
      expect(t.stats().sink).toBe(`influxdb-v2 ${proxy.url}`);
      const writes = proxy.requests.filter((r) => r.path === '/api/v2/write');
      expect(writes.length).toBeGreaterThan(0);
      for (const w of writes) expect(w).toMatchObject({ authorization: `Token ${token}`, encoding: 'gzip' });
      await t.close();
    });
  }

  it('keeps points queued while the listener refuses the token, and says why', async () => {
    const name = uniqueDb('v2token');
    dbs.push(name);
    await createDb(influx.url, name);
    const t = await createTelemetry({
      module: 'm',
      url: proxy.url,
      api: 'v2',
      bucket: name,
      token: 'wrong',
      dataDir: tempDataDir('v2token'),
      flushIntervalMs: 20,
    });
    t.metric({ sensor: 'ph', unit: 'pH', value: 6.1, quality: 'ok' });
    await expect.poll(() => t.stats().lastError, { timeout: 5000 }).toMatch(/401/);
    expect(t.stats()).toMatchObject({ produced: 1, delivered: 0, queued: 1, dropped: {} });
    await t.close({ deadlineMs: 100 });
  });
});
