import { Type, type Static } from '@sinclair/typebox';
import { MessageId, Timestamp } from './common';

const OnOff = Type.Union([Type.Literal('on'), Type.Literal('off')]);
const Level = Type.Number({ minimum: 0, maximum: 100, description: 'percent' });

/** `actuators/{id}/set`: a switch takes `state`, a dimmer takes `level` (or `state`: off = 0, on = 100). */
export const ActuatorCommand = Type.Union(
  [
    Type.Object({ id: Type.Optional(MessageId), state: OnOff }, { additionalProperties: false }),
    Type.Object({ id: Type.Optional(MessageId), level: Level }, { additionalProperties: false }),
  ],
  { $id: 'ActuatorCommand' },
);
export type ActuatorCommand = Static<typeof ActuatorCommand>;

/**
 * Retained `actuators/{id}`: the state read back from the device, or `{"state":"unknown"}` (any kind)
 * while it cannot be confirmed; the core then treats it as on and drives it to safe.
 */
export const ActuatorState = Type.Union(
  [
    Type.Object({ state: OnOff, ts: Timestamp }, { additionalProperties: true }),
    Type.Object({ state: Type.Literal('unknown'), ts: Timestamp }, { additionalProperties: true }),
    Type.Object({ level: Level, ts: Timestamp }, { additionalProperties: true }),
  ],
  { $id: 'ActuatorState' },
);
export type ActuatorState = Static<typeof ActuatorState>;
