import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common';

export const AlarmLimit = Type.Union([Type.Literal('low'), Type.Literal('high')], { $id: 'AlarmLimit' });
export type AlarmLimit = Static<typeof AlarmLimit>;

/** An active alarm: a sensor past one of its limits for longer than the delay. */
export const Alarm = Type.Object(
  {
    sensor: Type.String(),
    limit: AlarmLimit,
    /** The reading that raised it. */
    value: Type.Number(),
    /** When it was raised. */
    since: Timestamp,
    acknowledged: Type.Boolean(),
    /** The limit it crossed. */
    threshold: Type.Optional(Type.Number()),
  },
  { $id: 'Alarm' },
);
export type Alarm = Static<typeof Alarm>;

/** Retained `alarms`: every active alarm, republished on each change. */
export const AlarmsMessage = Type.Object(
  { alarms: Type.Array(Alarm), ts: Timestamp },
  { $id: 'AlarmsMessage' },
);
export type AlarmsMessage = Static<typeof AlarmsMessage>;

/** `core/req/ack_alarm` and `POST /api/v1/alarms/ack`. */
export const AckAlarmRequest = Type.Object(
  { sensor: Type.String({ minLength: 1, maxLength: 64 }), limit: AlarmLimit },
  { $id: 'AckAlarmRequest', additionalProperties: false },
);
export type AckAlarmRequest = Static<typeof AckAlarmRequest>;
