import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { isCodedError } from '../coded-error';
import { Event } from '../messages/event';
import { validate } from '../messages/validate';
import {
  createEvent,
  EVENT_TYPES,
  EventTypeSchema,
  RegisteredEventSchema,
  setEventDataChecks,
  type EventType,
} from './create-event';
import { EVENT_REGISTRY } from './registry';

const SEVERITIES = ['debug', 'info', 'warning', 'error', 'critical'];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCodedError(e) ? e.code : 'uncoded';
  }
  return undefined;
}

describe('event type registry', () => {
  afterEach(() => setEventDataChecks(true));

  it('gives every type a severity, a description and a data schema that a sample passes', () => {
    for (const type of EVENT_TYPES) {
      const info = EVENT_REGISTRY[type];
      expect(SEVERITIES, type).toContain(info.severity);
      expect(info.severities[0], type).toBe(info.severity);
      for (const s of info.severities) expect(SEVERITIES, type).toContain(s);
      expect(info.description, type).toMatch(/^\S.*\S$/);
      const sample = Value.Create(info.data);
      expect(validate(info.data, sample).ok, type).toBe(true);
      // The contract's generic event shape holds every registered type.
      const event = createEvent(type, 'm', sample as never, { ts: 1 });
      expect(validate(Event, event).ok, type).toBe(true);
      expect(validate(RegisteredEventSchema, event).ok, type).toBe(true);
    }
  });

  it('builds an event with the registry severity, or another allowed one', () => {
    expect(createEvent('water_level.low', 'low', { value: 0 }, { ts: 5 })).toEqual({
      type: 'water_level.low',
      severity: 'critical',
      message: 'low',
      ts: 5,
      data: { value: 0 },
    });
    expect(createEvent('actuator.error', 'stuck', undefined, { severity: 'critical' }).severity).toBe(
      'critical',
    );
  });

  it('throws EVENT_INVALID for a type that is not registered, checks on or off', () => {
    for (const on of [true, false]) {
      setEventDataChecks(on);
      expect(codeOf(() => createEvent('pump.exploded' as EventType, 'x'))).toBe('EVENT_INVALID');
      expect(codeOf(() => createEvent('toString' as EventType, 'x'))).toBe('EVENT_INVALID');
    }
  });

  it('throws EVENT_INVALID for data that does not match the schema, a missing data or a severity not allowed', () => {
    expect(codeOf(() => createEvent('co2.high', 'x', { value: 'high' } as never))).toBe('EVENT_INVALID');
    expect(codeOf(() => createEvent('co2.high', 'x'))).toBe('EVENT_INVALID');
    expect(codeOf(() => createEvent('co2.high', 'x', { value: 1, limit: 2 }, { severity: 'debug' }))).toBe(
      'EVENT_INVALID',
    );
    expect(codeOf(() => createEvent('co2.high', 'x', { value: 1, limit: 2 }))).toBeUndefined();
  });

  it('with data checks off (production), passes bad data through rather than stop the raiser', () => {
    setEventDataChecks(false);
    expect(createEvent('co2.high', 'x', { value: 'high' } as never).data).toEqual({ value: 'high' });
  });

  it('exports the types as an EventType enum and the events as a union discriminated by type', () => {
    expect(validate(EventTypeSchema, 'tunnel.opened').ok).toBe(true);
    expect(validate(EventTypeSchema, 'tunnel.exploded').ok).toBe(false);
    const good = { type: 'co2.high', severity: 'warning', message: 'm', ts: 1, data: { value: 1, limit: 2 } };
    expect(validate(RegisteredEventSchema, good).ok).toBe(true);
    expect(validate(RegisteredEventSchema, { ...good, data: { value: 1 } }).ok).toBe(false);
    expect(validate(RegisteredEventSchema, { ...good, severity: 'debug' }).ok).toBe(false);
    expect(validate(RegisteredEventSchema, { ...good, type: 'co2.unknown' }).ok).toBe(false);
  });
});
