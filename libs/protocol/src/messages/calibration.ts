import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common';

export const CalibrationAction = Type.Union(
  [
    Type.Literal('mid'),
    Type.Literal('low'),
    Type.Literal('high'),
    Type.Literal('dry'),
    Type.Literal('single'),
    Type.Literal('clear'),
    Type.Literal('forced'),
    Type.Literal('offset'),
  ],
  {
    $id: 'CalibrationAction',
    description:
      'pH: mid, low, high; EC: dry, single, low, high; CO2: forced; any sensor: offset (value = offset, scale); clear',
  },
);

/** `POST /api/v1/sensors/{id}/calibration` body; with `sensor` it is the `core/req/calibrate` request. */
export const CalibrationRequest = Type.Object(
  {
    action: CalibrationAction,
    /** The reference (pH, µS/cm, ppm), or the offset for `offset`. */
    value: Type.Optional(Type.Number()),
    /** `offset` only: the factor readings are multiplied by before the offset is added. */
    scale: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { $id: 'CalibrationRequest', additionalProperties: false },
);
export type CalibrationRequest = Static<typeof CalibrationRequest>;

export const CalibrationPoint = Type.Object(
  {
    action: Type.String(),
    value: Type.Optional(Type.Number()),
    at: Timestamp,
  },
  { $id: 'CalibrationPoint' },
);

/** A sensor's calibration: the steps since the last clear, when, when next, and the software offset and scale. */
export const CalibrationStatus = Type.Object(
  {
    sensor: Type.String(),
    points: Type.Array(CalibrationPoint),
    calibratedAt: Type.Union([Timestamp, Type.Null()]),
    dueAt: Type.Union([Timestamp, Type.Null()]),
    due: Type.Boolean(),
    offset: Type.Number(),
    scale: Type.Number(),
    /** The steps this sensor takes. */
    actions: Type.Array(Type.String()),
    /** The points the device itself reports (EZO `Cal,?`), when it reports them. */
    devicePoints: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
  },
  { $id: 'CalibrationStatus' },
);
export type CalibrationStatus = Static<typeof CalibrationStatus>;
