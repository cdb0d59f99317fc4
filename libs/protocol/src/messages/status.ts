import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common';

/** The update lock the core holds while a job that must not be interrupted runs. */
export const UpdateLock = Type.Object(
  {
    held: Type.Boolean(),
    reason: Type.Optional(Type.String()),
    /** When the lock was taken (ms epoch). */
    since: Type.Optional(Timestamp),
    /** The updater honours the lock for at most this long after `since`. */
    maxAgeS: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { $id: 'UpdateLock' },
);
export type UpdateLock = Static<typeof UpdateLock>;

/** Retained `{app}/status`; the MQTT will publishes `state: 'offline'`. */
export const StatusMessage = Type.Object(
  {
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    version: Type.String(),
    ts: Timestamp,
    updateLock: Type.Optional(UpdateLock),
  },
  { $id: 'StatusMessage', additionalProperties: true },
);
export type StatusMessage = Static<typeof StatusMessage>;
