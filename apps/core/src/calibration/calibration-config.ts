import { Type, type Static } from '@sinclair/typebox';

/** The `calibration` section of the module config: how often each sensor is due, in days. */
export const CalibrationConfig = Type.Object(
  {
    intervalDays: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
      Type.Number({ exclusiveMinimum: 0, maximum: 3650 }),
    ),
  },
  { additionalProperties: false },
);
export type CalibrationConfig = Static<typeof CalibrationConfig>;

// Atlas recommends recalibrating pH monthly; EC probes and the SCD4x drift more slowly.
export const DEFAULT_CALIBRATION_CONFIG: CalibrationConfig = {
  intervalDays: { ph: 30, ec: 90, co2: 365 },
};
