import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode, ProtocolError } from '../errors';
import {
  ActuatorCommand,
  ActuatorState,
  Event,
  Response,
  SensorReading,
  StatusMessage,
  errorResponse,
  okResponse,
  parseJsonPayload,
  validate,
} from './index';

describe('message schemas', () => {
  it('accepts switch and dimmer commands and refuses anything else', () => {
    expect(validate(ActuatorCommand, { state: 'on' }).ok).toBe(true);
    expect(validate(ActuatorCommand, { level: 40, id: 'c1' }).ok).toBe(true);
    for (const bad of [
      {},
      { state: 'maybe' },
      { level: 101 },
      { level: -1 },
      { state: 'on', extra: 1 },
      'on',
      null,
      [],
    ]) {
      expect(validate(ActuatorCommand, bad).ok).toBe(false);
    }
  });

  it('reports where a value is wrong', () => {
    const result = validate(SensorReading, { value: 'x', unit: 'C', quality: 'ok', ts: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.some((e) => e.path === '/value')).toBe(true);
  });

  it('accepts a failed reading only with a null value', () => {
    expect(validate(SensorReading, { value: null, unit: 'C', quality: 'timeout', ts: 1 }).ok).toBe(true);
    expect(validate(SensorReading, { value: 1, unit: 'C', quality: 'broken', ts: 1 }).ok).toBe(false);
  });

  it('describes status with an optional update lock, actuator states and events', () => {
    expect(
      validate(StatusMessage, {
        state: 'online',
        version: '1.0.0',
        ts: 1,
        updateLock: { held: true, reason: 'irrigation', since: 1, maxAgeS: 900 },
      }).ok,
    ).toBe(true);
    expect(validate(StatusMessage, { state: 'sleeping', version: '1', ts: 1 }).ok).toBe(false);
    expect(validate(ActuatorState, { level: 40, ts: 5 }).ok).toBe(true);
    expect(validate(ActuatorState, { state: 'on' }).ok).toBe(false);
    expect(validate(Event, { type: 'command.rejected', severity: 'warning', message: 'm', ts: 1 }).ok).toBe(
      true,
    );
    expect(validate(Event, { type: 'Bad Type', severity: 'warning', message: 'm', ts: 1 }).ok).toBe(false);
  });

  it('builds responses that match the Response schema and keep the id only when given', () => {
    const ok = okResponse('r1', { a: 1 });
    const err = errorResponse(undefined, 'INTERLOCK', 'pump refused', { reason: 'water_level_low' });
    expect(ok).toEqual({ id: 'r1', ok: true, result: { a: 1 } });
    expect(err).toEqual({
      ok: false,
      error: { code: 'INTERLOCK', message: 'pump refused', details: { reason: 'water_level_low' } },
    });
    expect(validate(Response, ok).ok).toBe(true);
    expect(validate(Response, err).ok).toBe(true);
    expect(validate(Response, { ok: false, error: { code: 'NOPE', message: 'x' } }).ok).toBe(false);
  });

  it('parses UTF-8 JSON payloads and refuses others without throwing', () => {
    expect(parseJsonPayload(Buffer.from('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonPayload(Buffer.from('{'))).toEqual({ ok: false });
    expect(parseJsonPayload(Buffer.from([0xff, 0xfe, 0x7b]))).toEqual({ ok: false });
  });

  it('reads a good payload right after one cut in the middle of a UTF-8 sequence', () => {
    expect(parseJsonPayload(Buffer.from([0x22, 0xe2, 0x82]))).toEqual({ ok: false });
    expect(parseJsonPayload(Buffer.from('"€"'))).toEqual({ ok: true, value: '€' });
  });

  it('carries a code on every protocol error', () => {
    const e = new ProtocolError('UNKNOWN_SENSOR', 'no sensor "x"');
    expect(e.code).toBe('UNKNOWN_SENSOR');
    expect(ERROR_CODES).toContain('BAD_JSON');
    expect(isErrorCode('INTERLOCK')).toBe(true);
    expect(isErrorCode('nope')).toBe(false);
  });
});
