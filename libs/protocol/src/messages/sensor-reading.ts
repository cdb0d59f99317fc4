import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common';

export const SensorQuality = Type.Union(
  [
    Type.Literal('ok'),
    Type.Literal('stale'),
    Type.Literal('crc'),
    Type.Literal('range'),
    Type.Literal('timeout'),
    Type.Literal('unavailable'),
  ],
  { $id: 'SensorQuality' },
);
export type SensorQuality = Static<typeof SensorQuality>;

/** Retained `sensors/{sensorId}`. `value` is null whenever the read failed; `quality` says why. */
export const SensorReading = Type.Object(
  {
    value: Type.Union([Type.Number(), Type.Null()]),
    unit: Type.String(),
    quality: SensorQuality,
    ts: Timestamp,
  },
  { $id: 'SensorReading', additionalProperties: true },
);
export type SensorReading = Static<typeof SensorReading>;
