import { Type, type Static } from '@sinclair/typebox';
import { codedError } from '../coded-error';
import { Timestamp } from '../messages/common';
import type { Event, EventSeverity } from '../messages/event';
import { validate } from '../messages/validate';
import { EVENT_REGISTRY, type EventTypeInfo } from './registry';

export type EventType = keyof typeof EVENT_REGISTRY;
export type EventData<T extends EventType> = Static<(typeof EVENT_REGISTRY)[T]['data']>;
export const EVENT_TYPES = Object.keys(EVENT_REGISTRY) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(EVENT_REGISTRY, value);
}

/** A contract event of a registered type. */
export interface RegisteredEvent<T extends EventType = EventType> extends Event {
  type: T;
  data?: EventData<T>;
}

/** Off in production images (NODE_ENV=production): there a bad `data` must not stop the raiser. */
let checkingData = process.env.NODE_ENV !== 'production';

/** Turns the check of severity and `data` against the registry on or off (tests and dev have it on). */
export function setEventDataChecks(on: boolean): void {
  checkingData = on;
}

/**
 * Builds a contract event of a registered type, with the registry's severity unless another
 * allowed one is named. The type must be in the registry (always checked: an unregistered type
 * throws EVENT_INVALID); with data checks on, so must the severity and the `data` shape.
 */
export function createEvent<T extends EventType>(
  type: T,
  message: string,
  data?: EventData<T>,
  options: { severity?: EventSeverity; ts?: number } = {},
): RegisteredEvent<T> {
  if (!isEventType(type)) {
    throw codedError('EVENT_INVALID', `event type "${String(type)}" is not in the event registry`);
  }
  const info: EventTypeInfo = EVENT_REGISTRY[type];
  const severity = options.severity ?? info.severity;
  if (checkingData) {
    if (!info.severities.includes(severity)) {
      throw codedError('EVENT_INVALID', `event ${type} is not raised with severity ${severity}`, {
        severities: info.severities,
      });
    }
    const checked = data === undefined ? undefined : validate(info.data, data);
    if (checked ? !checked.ok : !info.dataOptional) {
      throw codedError('EVENT_INVALID', `event ${type}: data does not match its schema`, {
        issues: checked && !checked.ok ? checked.errors : [{ path: '', message: 'data is required' }],
      });
    }
  }
  const ts = options.ts ?? Date.now();
  return data === undefined ? { type, severity, message, ts } : { type, severity, message, ts, data };
}

/** The registry as JSON Schema: an enum of the event types, each with its severity and description. */
export const EventTypeSchema = Type.Union(
  EVENT_TYPES.map((t) => {
    const { severity, severities, description } = EVENT_REGISTRY[t];
    return Type.Literal(t, { description, 'x-severity': severity, 'x-severities': severities });
  }),
  { $id: 'EventType', description: 'every event type of the workspace (the event type registry)' },
);

/** An event of each registered type, discriminated by `type`, with its severities and `data` schema. */
export const RegisteredEventSchema = Type.Union(
  EVENT_TYPES.map((t) => {
    const info: EventTypeInfo = EVENT_REGISTRY[t];
    return Type.Object(
      {
        type: Type.Literal(t),
        severity: Type.Union(info.severities.map((s) => Type.Literal(s))),
        message: Type.String(),
        ts: Timestamp,
        data: info.dataOptional ? Type.Optional(info.data) : info.data,
      },
      { description: info.description },
    );
  }),
  { $id: 'RegisteredEvent', 'x-discriminator': 'type' },
);
