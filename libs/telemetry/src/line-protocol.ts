import { escape, Point } from '@influxdata/influxdb-client';
import { CodedError } from '@growoff/protocol';

/**
 * Lines carry nanosecond timestamps (every request says `precision=ns`, also the servers' default):
 * the caller's millisecond time, plus a count below it that keeps events of one type in the same
 * millisecond apart (InfluxDB keeps one point per series and timestamp).
 */
export const PRECISION = 'ns';

/** The longest line the queue stores (a record's payload bound). */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface MetricInput {
  sensor: string;
  unit: string;
  value: number | null;
  quality: string;
  /** Epoch milliseconds; default now. */
  ts?: number;
}

export interface EventInput {
  type: string;
  severity: string;
  message: string;
  data?: unknown;
  ts?: number;
}

/** A point that can never be stored as line protocol; refused here with a reason. */
export class InvalidPointError extends CodedError<'TELEMETRY_INVALID_POINT'> {
  override readonly name = 'InvalidPointError';

  constructor(message: string) {
    super('TELEMETRY_INVALID_POINT', message);
  }
}

/** Epoch milliseconds (default now), validated and cut to a whole millisecond. */
export function millisecondsOf(ts: number | undefined): number {
  const value = ts ?? Date.now();
  if (!Number.isFinite(value)) throw new InvalidPointError(`timestamp ${value} is not a finite number`);
  return Math.trunc(value);
}

function nanoseconds(ms: number, within = 0): string {
  return (BigInt(ms) * 1_000_000n + BigInt(within)).toString();
}

/**
 * InfluxDB 1.x's parser treats a backslash as escaping whatever follows, so a tag value ending in
 * one swallows the separator after it and the whole line is refused (doubling does not help).
 * Such a point can never be stored; it is refused here, with a reason, instead of by the server.
 */
function tagValue(name: string, value: string): string {
  if (value.endsWith('\\')) throw new InvalidPointError(`tag ${name} '${value}' ends with a backslash`);
  return value;
}

function toLine(point: Point): string {
  const line = point.toLineProtocol({ convertTime: (t) => (t === undefined ? undefined : String(t)) });
  if (line === undefined) throw new InvalidPointError('point has no fields');
  if (line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line) > MAX_LINE_BYTES) {
    throw new InvalidPointError(`line of ${Buffer.byteLength(line)} bytes is longer than ${MAX_LINE_BYTES}`);
  }
  return line;
}

/** `sensor,module=…,sensor=…,unit=…` by module, sensor and unit: the same for every reading of a sensor. */
const sensorPrefixes = new Map<string, string>();
/** Beyond this many prefixes (a module has a few dozen sensors) the cache starts over. */
const MAX_SENSOR_PREFIXES = 1024;

/** Point's tag: left out when its value is empty; otherwise escaped as line protocol escapes tags. */
function tagPart(name: string, value: string): string {
  return value === '' ? '' : `,${name}=${escape.tag(tagValue(name, value))}`;
}

function sensorPrefix(module: string, sensor: string, unit: string): string {
  // Each part's length first, so that no two triples make one key.
  const key = `${module.length}:${module}${sensor.length}:${sensor}${unit}`;
  let prefix = sensorPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `sensor${tagPart('module', module)}${tagPart('sensor', sensor)}${tagPart('unit', unit)}`;
    if (sensorPrefixes.size >= MAX_SENSOR_PREFIXES) sensorPrefixes.clear();
    sensorPrefixes.set(key, prefix);
  }
  return prefix;
}

/**
 * Measurement `sensor`: tags module, sensor, unit; fields value (float, omitted when null) and quality.
 * The line is the one the client's Point makes (tags and fields in name order, an empty tag left
 * out, the same escaping), written directly: a reading is the queue's commonest point, and its tags
 * repeat, so their part is made once per sensor.
 */
export function sensorLine(module: string, r: MetricInput): string {
  if (r.value !== null && !Number.isFinite(r.value)) {
    throw new InvalidPointError(`sensor ${r.sensor}: value ${r.value} is not a finite number`);
  }
  const ms = millisecondsOf(r.ts);
  // What the client's Point would do with a quality that is not a string (left out, or made one).
  if (typeof r.quality !== 'string') return sensorPointLine(module, r, ms);
  const fields =
    r.value === null
      ? `quality=${escape.quoted(r.quality)}`
      : `quality=${escape.quoted(r.quality)},value=${String(r.value)}`;
  const line = `${sensorPrefix(module, r.sensor, r.unit)} ${fields} ${ms === 0 ? '0' : `${ms}000000`}`;
  if (line.length > MAX_LINE_BYTES / 3 && Buffer.byteLength(line) > MAX_LINE_BYTES) {
    throw new InvalidPointError(`line of ${Buffer.byteLength(line)} bytes is longer than ${MAX_LINE_BYTES}`);
  }
  return line;
}

function sensorPointLine(module: string, r: MetricInput, ms: number): string {
  const point = new Point('sensor')
    .tag('module', tagValue('module', module))
    .tag('sensor', tagValue('sensor', r.sensor))
    .tag('unit', tagValue('unit', r.unit))
    .stringField('quality', r.quality)
    .timestamp(nanoseconds(ms));
  if (r.value !== null) point.floatField('value', r.value);
  return toLine(point);
}

/**
 * Measurement `event`: tags module, type, severity; fields message and data (JSON). `within` is
 * the nanosecond offset inside the event's millisecond (see EventStamps).
 */
export function eventLine(module: string, e: EventInput, within = 0): string {
  const point = new Point('event')
    .tag('module', tagValue('module', module))
    .tag('type', tagValue('type', e.type))
    .tag('severity', tagValue('severity', e.severity))
    .stringField('message', e.message)
    .timestamp(nanoseconds(millisecondsOf(e.ts), within));
  if (e.data !== undefined) {
    let json: string | undefined;
    try {
      json = JSON.stringify(e.data);
    } catch (err) {
      throw new InvalidPointError(
        `event ${e.type}: data is not serialisable as JSON (${(err as Error).message})`,
      );
    }
    if (json !== undefined) point.stringField('data', json);
  }
  return toLine(point);
}
