import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { InvalidPointError, eventLine, sensorLine, type MetricInput } from './line-protocol';

/** The reading's line as the client's Point makes it (what sensorLine wrote before it wrote lines itself). */
function pointLine(module: string, r: MetricInput): string {
  const point = new Point('sensor')
    .tag('module', module)
    .tag('sensor', r.sensor)
    .tag('unit', r.unit)
    .stringField('quality', r.quality)
    .timestamp((BigInt(Math.trunc(r.ts!)) * 1_000_000n).toString());
  if (r.value !== null) point.floatField('value', r.value);
  return point.toLineProtocol({ convertTime: (t) => (t === undefined ? undefined : String(t)) })!;
}

/** A small seeded generator (mulberry32), so a failure names inputs that come again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('line protocol shapes', () => {
  it('writes a reading as measurement sensor with module, sensor and unit tags and the millisecond timestamp in nanoseconds', () => {
    expect(
      sensorLine('m1', { sensor: 'air_temperature', unit: 'C', value: 21, quality: 'ok', ts: 1700000000123 }),
    ).toBe('sensor,module=m1,sensor=air_temperature,unit=C quality="ok",value=21 1700000000123000000');
  });

  it("writes the line the client's Point writes, for 5000 random readings (seed 20261201)", () => {
    const next = random(20261201);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    const chars = ['a', 'Z', '0', '_', ' ', ',', '=', '"', '\\', '\n', '\t', 'é', '°', '💧'];
    const text = (max: number) => {
      let out = '';
      for (let n = Math.floor(next() * max); n > 0; n--) out += pick(chars);
      // A tag ending in a backslash is refused (another test); keep these parseable.
      return out.endsWith('\\') ? `${out}x` : out;
    };
    const values = [0, -0, 1, -1.5, 21.375, 1e21, 1.5e-7, 123456789.125, Number.MAX_VALUE, null];
    const times = [0, -0.4, 1, 1700000000123, -86400000, 4102444800000.9];
    const modules = ['m1', 'mod ule', 'a,b=c', ''];
    for (let i = 0; i < 5000; i++) {
      const module = next() < 0.7 ? pick(modules) : text(6);
      const r: MetricInput = {
        sensor: next() < 0.5 ? pick(['ph', 'co2', 'air temp']) : text(8),
        unit: next() < 0.5 ? pick(['pH', '°C', '']) : text(4),
        value: next() < 0.5 ? pick(values) : (next() - 0.5) * 10 ** Math.floor(next() * 12),
        quality: next() < 0.5 ? pick(['ok', 'timeout', '']) : text(10),
        ts: pick(times),
      };
      expect(sensorLine(module, r), JSON.stringify({ module, r })).toBe(pointLine(module, r));
    }
  });

  it('writes only the quality field for a failed read (value null)', () => {
    expect(sensorLine('m1', { sensor: 'co2', unit: 'ppm', value: null, quality: 'timeout', ts: 5 })).toBe(
      'sensor,module=m1,sensor=co2,unit=ppm quality="timeout" 5000000',
    );
  });

  it('writes an event with its data as a JSON string field', () => {
    expect(eventLine('m1', { type: 'pump.on', severity: 'info', message: 'on', data: { a: 1 }, ts: 7 })).toBe(
      'event,module=m1,severity=info,type=pump.on data="{\\"a\\":1}",message="on" 7000000',
    );
  });

  it('sets events of one series in the same millisecond apart by a nanosecond', () => {
    const e = { type: 'command.rejected', severity: 'warning', message: 'bad', ts: 9 };
    expect(eventLine('m1', e, 0)).toMatch(/ 9000000$/);
    expect(eventLine('m1', e, 2)).toMatch(/ 9000002$/);
  });

  it('refuses values and timestamps that are not finite, and tags InfluxDB cannot parse', () => {
    expect(() => sensorLine('m', { sensor: 's', unit: 'u', value: Infinity, quality: 'ok' })).toThrow(
      InvalidPointError,
    );
    expect(() => sensorLine('m', { sensor: 's', unit: 'u', value: 1, quality: 'ok', ts: NaN })).toThrow(
      InvalidPointError,
    );
    expect(() => sensorLine('m', { sensor: 's\\', unit: 'u', value: 1, quality: 'ok' })).toThrow(
      /ends with a backslash/,
    );
    expect(() => eventLine('m', { type: 't', severity: 'info', message: 'x', data: { big: 1n } })).toThrow(
      InvalidPointError,
    );
  });

  it('refuses a line longer than the queue stores (1 MiB)', () => {
    expect(() => eventLine('m', { type: 't', severity: 'info', message: 'é'.repeat(600_000) })).toThrow(
      /longer than/,
    );
  });
});
