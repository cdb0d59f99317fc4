import { Type, type Static } from '@sinclair/typebox';
import { Severity, Timestamp } from './common';

/** `events`: what happened on the module, e.g. `command.rejected`, `water_level.low`, `sensor.lost`. */
export const Event = Type.Object(
  {
    type: Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$', maxLength: 64 }),
    severity: Severity,
    message: Type.String(),
    ts: Timestamp,
    data: Type.Optional(Type.Unknown()),
  },
  { $id: 'Event' },
);
export type Event = Static<typeof Event>;
export type EventSeverity = Static<typeof Severity>;
