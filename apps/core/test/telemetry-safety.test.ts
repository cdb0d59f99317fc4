import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService, waitUntil } from '@growoff/test-services';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');
const influx = getService('influxdb');

async function influxQl(q: string, db?: string): Promise<Array<Record<string, unknown>>> {
  const params = new URLSearchParams({ q, epoch: 'ms' });
  if (db) params.set('db', db);
  const res = await fetch(`${influx.url}/query`, { method: 'POST', body: params });
  const body = (await res.json()) as {
    results: Array<{ error?: string; series?: Array<{ columns: string[]; values: unknown[][] }> }>;
  };
  if (body.results[0]?.error) throw new Error(body.results[0].error);
  return (body.results[0]?.series ?? []).flatMap((s) =>
    s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
  );
}

describe('core telemetry and schedule safety (built-in parts, real Mosquitto and InfluxDB 1.6.7)', () => {
  let core: RunningCore;
  const db = `core_safety_${uniqueModuleId('t').replace(/-/g, '_')}`;

  beforeAll(async () => {
    await influxQl(`CREATE DATABASE "${db}"`);
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('safety'),
      GROWOFF_MQTT_URL: mosquitto.url,
      GROWOFF_TELEMETRY_URL: influx.url,
      GROWOFF_TELEMETRY_API: 'v1',
      GROWOFF_TELEMETRY_BUCKET: db,
      GROWOFF_TIMEZONE: 'Europe/Berlin',
    });
    await waitUntil('first samples', () => core.store.readings().length >= 8, 10_000);
  });

  afterAll(async () => {
    await core?.stop();
    await influxQl(`DROP DATABASE "${db}"`);
  });

  it('reports event-loop lag and lost telemetry records in /health', async () => {
    const { status, body } = await rest(core, 'GET', '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      eventLoop: {
        windowS: 60,
        p50Ms: expect.any(Number),
        p99Ms: expect.any(Number),
        maxMs: expect.any(Number),
      },
      telemetry: { lost: 0, dropped: {} },
    });
    const lag = body.eventLoop as unknown as { p50Ms: number; p99Ms: number; maxMs: number };
    expect(lag.p99Ms).toBeGreaterThanOrEqual(lag.p50Ms);
    expect(lag.maxMs).toBeGreaterThanOrEqual(lag.p99Ms);
  });

  it('takes the default timezone from GROWOFF_TIMEZONE and refuses a bad one with a coded 400, changing nothing', async () => {
    const before = await rest(core, 'GET', '/api/v1/config');
    expect(before.body).toMatchObject({ timezone: 'Europe/Berlin' });
    const bad = await rest(core, 'PUT', '/api/v1/config', {
      timezone: 'Europe/Atlantis',
      light: { level: 5 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_MESSAGE' } });
    expect(JSON.stringify(bad.body)).toContain('/timezone');
    expect((await rest(core, 'GET', '/api/v1/config')).body).toEqual(before.body);
  });

  it('lands a flood of rejected commands in InfluxDB as its first 20 events plus one "suppressed N" summary', async () => {
    // Rejections raised earlier in this window (by the tests above) count towards the same limit.
    const earlier = core.store.recentEvents(500).filter((e) => e.type === 'command.rejected').length;
    expect(earlier).toBeLessThan(20);
    for (let i = 0; i < 35; i += 1) {
      const res = await rest(core, 'PUT', `/api/v1/actuators/nope-${i}`, { state: 'on' });
      expect(res.status).toBe(404);
    }
    // Stopping ends the rate window: the summary is raised, then telemetry is flushed.
    await core.stop();
    const rejected = await influxQl(`SELECT count(message) FROM event WHERE "type" = 'command.rejected'`, db);
    expect(rejected[0]?.count).toBe(20);
    const summaries = await influxQl(`SELECT message, data FROM event WHERE "type" = 'event.suppressed'`, db);
    expect(summaries).toHaveLength(1);
    expect(JSON.parse(String(summaries[0]?.data))).toMatchObject({
      type: 'command.rejected',
      passed: 20,
      suppressed: earlier + 35 - 20,
    });
  });
});
