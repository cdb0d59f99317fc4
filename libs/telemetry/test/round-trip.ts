import { expect } from 'vitest';
import type { Telemetry } from '@growoff/telemetry';
import { HARD_EVENTS, HARD_METRICS, HARD_MODULE } from './hard-points';
import { fieldTypes, rows } from './influx';

/** Writes the hard points through `t` (a telemetry for HARD_MODULE) and reads every one back. */
export async function writeAndReadBackHardPoints(t: Telemetry, influxUrl: string, db: string): Promise<void> {
  for (const m of HARD_METRICS) expect(t.metric(m)).toBe(true);
  for (const e of HARD_EVENTS) expect(t.event(e)).toBe(true);
  await t.flush();
  const produced = HARD_METRICS.length + HARD_EVENTS.length;
  expect(t.stats()).toMatchObject({ produced, delivered: produced, queued: 0, dropped: {} });

  const sensors = await rows(influxUrl, db, 'SELECT * FROM sensor ORDER BY time');
  expect(sensors).toEqual(
    HARD_METRICS.map((m) => ({
      time: m.ts,
      module: HARD_MODULE,
      sensor: m.sensor,
      unit: m.unit,
      value: m.value,
      quality: m.quality,
    })),
  );
  expect(await fieldTypes(influxUrl, db, 'sensor')).toEqual({ value: 'float', quality: 'string' });

  const events = await rows(influxUrl, db, 'SELECT * FROM event ORDER BY time');
  expect(events).toEqual(
    HARD_EVENTS.map((e) => ({
      time: e.ts,
      module: HARD_MODULE,
      type: e.type,
      severity: e.severity,
      message: e.message,
      data: e.data === undefined ? null : JSON.stringify(e.data),
    })),
  );
  expect(await fieldTypes(influxUrl, db, 'event')).toEqual({ message: 'string', data: 'string' });
}
