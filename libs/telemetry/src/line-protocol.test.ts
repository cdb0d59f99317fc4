import { describe, expect, it } from 'vitest';
import { InvalidPointError, eventLine, sensorLine } from './line-protocol';

describe('line protocol shapes', () => {
  it('writes a reading as measurement sensor with module, sensor and unit tags and the millisecond timestamp in nanoseconds', () => {
    expect(
      sensorLine('m1', { sensor: 'air_temperature', unit: 'C', value: 21, quality: 'ok', ts: 1700000000123 }),
    ).toBe('sensor,module=m1,sensor=air_temperature,unit=C quality="ok",value=21 1700000000123000000');
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
