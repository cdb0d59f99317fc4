import { Point } from '@influxdata/influxdb-client';
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

/** Measurement `sensor`: tags module, sensor, unit; fields value (float, omitted when null) and quality. */
export function sensorLine(module: string, r: MetricInput): string {
  if (r.value !== null && !Number.isFinite(r.value)) {
    throw new InvalidPointError(`sensor ${r.sensor}: value ${r.value} is not a finite number`);
  }
  const point = new Point('sensor')
    .tag('module', tagValue('module', module))
    .tag('sensor', tagValue('sensor', r.sensor))
    .tag('unit', tagValue('unit', r.unit))
    .stringField('quality', r.quality)
    .timestamp(nanoseconds(millisecondsOf(r.ts)));
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
