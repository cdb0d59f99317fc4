import { Type, type Static } from '@sinclair/typebox';

/** Limits of one sensor: raised past low or high for delayS, cleared once back inside by hysteresis for delayS. */
export const AlarmLimits = Type.Object(
  {
    low: Type.Optional(Type.Number()),
    high: Type.Optional(Type.Number()),
    /** How far back inside a limit the value must come before its alarm clears. */
    hysteresis: Type.Number({ minimum: 0 }),
    /** How long (s) a value must stay past a limit, or back inside, before the alarm is raised or cleared. */
    delayS: Type.Number({ minimum: 0, maximum: 86_400 }),
  },
  { additionalProperties: false },
);
export type AlarmLimits = Static<typeof AlarmLimits>;

/** The `alarms` section of the module config: limits by sensor id. */
export const AlarmsConfig = Type.Object(
  { limits: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), AlarmLimits) },
  { additionalProperties: false },
);
export type AlarmsConfig = Static<typeof AlarmsConfig>;

export const DEFAULT_ALARMS_CONFIG: AlarmsConfig = {
  limits: {
    ph: { low: 5.0, high: 7.0, hysteresis: 0.1, delayS: 60 },
    ec: { low: 500, high: 2500, hysteresis: 50, delayS: 60 },
    water_temperature: { low: 15, high: 26, hysteresis: 0.5, delayS: 120 },
  },
};

/** Rules the schema cannot say: a limit at least, and bands that do not overlap. */
export function alarmConfigIssues(c: AlarmsConfig | undefined): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  for (const [sensor, l] of Object.entries(c?.limits ?? {})) {
    const path = `/alarms/limits/${sensor}`;
    if (l.low === undefined && l.high === undefined)
      issues.push({ path, message: 'needs a low or a high limit' });
    if (l.low !== undefined && l.high !== undefined && l.low + l.hysteresis >= l.high - l.hysteresis)
      issues.push({
        path: `${path}/hysteresis`,
        message: 'low + hysteresis must stay below high - hysteresis',
      });
  }
  return issues;
}
