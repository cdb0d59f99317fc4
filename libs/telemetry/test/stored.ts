import { expect } from 'vitest';
import type { TelemetryStats } from '@growoff/telemetry';
import { countOf, rows } from './influx';

export const BASE_TS = 1_700_000_000_000;

export const droppedTotal = (s: TelemetryStats) => Object.values(s.dropped).reduce((a, b) => a + b, 0);

/**
 * The accounting adds up and InfluxDB holds exactly produced − dropped points of `sensor`, each
 * with its original timestamp (BASE_TS + value).
 */
export async function expectExactlyStored(url: string, db: string, s: TelemetryStats): Promise<void> {
  expect(s.queued).toBe(0);
  expect(s.produced).toBe(s.delivered + droppedTotal(s) + s.queued);
  expect(await countOf(url, db, 'sensor', 'value')).toBe(s.produced - droppedTotal(s));
  const stored = await rows(url, db, 'SELECT value FROM sensor');
  for (const row of stored) expect(row.time).toBe(BASE_TS + Number(row.value));
}
