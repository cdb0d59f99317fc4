import type { EventInput, MetricInput } from '@growoff/telemetry';

/** Strings that line protocol must escape or quote, and unicode across planes. */
export const HARD_MODULE = 'mod ule,x=y"ü\\z';

const base = 1_700_000_000_000;

export const HARD_METRICS: MetricInput[] = [
  { sensor: 'air temperature', unit: '°C', value: 21.5, quality: 'ok', ts: base + 1 },
  { sensor: 'a,b=c d', unit: 'µS/cm', value: -1.5, quality: 'ok', ts: base + 2 },
  { sensor: 'quote"d', unit: 'm³/h', value: 42, quality: 'range', ts: base + 3 },
  { sensor: 'back\\slash\\\\twice', unit: 'pH', value: 1e-300, quality: 'ok', ts: base + 4 },
  { sensor: 'ünï 温度 🌱', unit: 'lux', value: 1.7976931348623157e308, quality: 'ok', ts: base + 5 },
  { sensor: '=leading', unit: ' spaced unit ', value: 0, quality: 'ok', ts: base + 6 },
  { sensor: 'failed', unit: 'ppm', value: null, quality: 'timeout', ts: base + 7 },
  { sensor: 'quality', unit: '%', value: 55.25, quality: 'stale "x" \\ y\nz, a=b', ts: base + 8 },
];

export const HARD_EVENTS: EventInput[] = [
  {
    type: 'command.rejected',
    severity: 'warning',
    message: 'He said "hi", a=b c\\d\nnew line 🚀',
    data: { nested: { 'k ey': 'v,="\\' }, arr: [1, 2.5, null], unicode: 'ø' },
    ts: base + 10,
  },
  { type: 'type with space', severity: 'info', message: '', ts: base + 11 },
  { type: 'x=y,z', severity: 'critical', message: 'no data', data: 'just a string', ts: base + 12 },
];
