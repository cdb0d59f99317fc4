import { Type, type Static } from '@sinclair/typebox';
import { ProtocolError, validate } from '@growoff/protocol';
import { isValidTimeZone } from '../control/local-time';
import { AlarmsConfig, alarmConfigIssues, DEFAULT_ALARMS_CONFIG } from '../alarms/alarm-config';
import { CalibrationConfig, DEFAULT_CALIBRATION_CONFIG } from '../calibration/calibration-config';

const TimeOfDay = Type.String({
  pattern: '^([01]\\d|2[0-3]):[0-5]\\d$',
  description: 'HH:MM, module local time',
});

/** The cabinet's schedules, setpoints and safety limits; persisted in the data dir. */
export const ModuleConfig = Type.Object(
  {
    /** IANA time zone name (e.g. Europe/Berlin) every schedule follows; defaulted from the host. */
    timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone of every schedule' }),
    light: Type.Object(
      {
        enabled: Type.Boolean(),
        /** Sunrise starts here and ramps up over rampMinutes. */
        on: TimeOfDay,
        /** Sunset ends here, ramping down over the rampMinutes before it. */
        off: TimeOfDay,
        rampMinutes: Type.Integer({ minimum: 0, maximum: 240 }),
        level: Type.Number({ minimum: 0, maximum: 100 }),
      },
      { additionalProperties: false },
    ),
    irrigation: Type.Object(
      {
        enabled: Type.Boolean(),
        everyMinutes: Type.Number({ minimum: 1, maximum: 1440 }),
        runSeconds: Type.Number({ minimum: 1, maximum: 3600 }),
        /**
         * The pump's run budget: all runs (scheduled or manual) within runWindowSeconds add up to at
         * most this; then the pump stops and rests for restSeconds, refusing "on" with PUMP_RESTING.
         */
        maxRunSeconds: Type.Number({ minimum: 1, maximum: 3600 }),
        runWindowSeconds: Type.Number({ minimum: 1, maximum: 86_400 }),
        restSeconds: Type.Number({ minimum: 1, maximum: 86_400 }),
      },
      { additionalProperties: false },
    ),
    climate: Type.Object(
      {
        enabled: Type.Boolean(),
        fanOnAboveC: Type.Number({ minimum: -20, maximum: 60 }),
        fanOffBelowC: Type.Number({ minimum: -20, maximum: 60 }),
        fanOnAboveHumidity: Type.Number({ minimum: 0, maximum: 100 }),
        fanOffBelowHumidity: Type.Number({ minimum: 0, maximum: 100 }),
        fanLevel: Type.Number({ minimum: 0, maximum: 100 }),
        /** Fail-safe fan level while air temperature or humidity is unknown (stale or failed). */
        staleFanLevel: Type.Number({ minimum: 0, maximum: 100 }),
        /** Light held at most at staleLightLevel while air temperature is unknown. */
        staleLightLevel: Type.Number({ minimum: 0, maximum: 100 }),
        /** Above this the light is dimmed to overTemperatureLightLevel and the fan runs at 100 %. */
        overTemperatureC: Type.Number({ minimum: -20, maximum: 60 }),
        /** The over-temperature reaction ends below this. */
        overTemperatureClearC: Type.Number({ minimum: -20, maximum: 60 }),
        overTemperatureLightLevel: Type.Number({ minimum: 0, maximum: 100 }),
      },
      { additionalProperties: false },
    ),
    thresholds: Type.Object(
      {
        co2HighPpm: Type.Number({ minimum: 0, maximum: 100_000 }),
        /** A reading older than this is stale: loops using it stop, interlocks treat it as unknown. */
        staleAfterMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
      },
      { additionalProperties: false },
    ),
    updateLock: Type.Object(
      { maxAgeS: Type.Integer({ minimum: 1, maximum: 86_400 }) },
      { additionalProperties: false },
    ),
    actuators: Type.Object(
      {
        /** Every actuator is read back this often; a mismatch re-applies the desired state (brown-outs). */
        reconcileIntervalMs: Type.Integer({ minimum: 200, maximum: 3_600_000 }),
      },
      { additionalProperties: false },
    ),
    /** Optional so that a config saved before alarms existed still loads (the defaults fill it in). */
    alarms: Type.Optional(AlarmsConfig),
    calibration: Type.Optional(CalibrationConfig),
  },
  { $id: 'ModuleConfig', additionalProperties: false },
);
export type ModuleConfig = Static<typeof ModuleConfig>;

/** A change: any subset of the sections, each section partial. */
export const ModuleConfigPatch = Type.Object(
  {
    timezone: Type.Optional(ModuleConfig.properties.timezone),
    light: Type.Optional(Type.Partial(ModuleConfig.properties.light)),
    irrigation: Type.Optional(Type.Partial(ModuleConfig.properties.irrigation)),
    climate: Type.Optional(Type.Partial(ModuleConfig.properties.climate)),
    thresholds: Type.Optional(Type.Partial(ModuleConfig.properties.thresholds)),
    updateLock: Type.Optional(Type.Partial(ModuleConfig.properties.updateLock)),
    actuators: Type.Optional(Type.Partial(ModuleConfig.properties.actuators)),
    alarms: Type.Optional(Type.Partial(AlarmsConfig)),
    calibration: Type.Optional(Type.Partial(CalibrationConfig)),
  },
  { $id: 'ModuleConfigPatch', additionalProperties: false },
);
export type ModuleConfigPatch = Static<typeof ModuleConfigPatch>;

export const DEFAULT_MODULE_CONFIG: ModuleConfig = {
  timezone: 'UTC',
  light: { enabled: true, on: '06:00', off: '22:00', rampMinutes: 30, level: 80 },
  irrigation: {
    enabled: true,
    everyMinutes: 120,
    runSeconds: 60,
    maxRunSeconds: 300,
    runWindowSeconds: 3600,
    restSeconds: 900,
  },
  climate: {
    enabled: true,
    fanOnAboveC: 28,
    fanOffBelowC: 26,
    fanOnAboveHumidity: 80,
    fanOffBelowHumidity: 70,
    fanLevel: 80,
    staleFanLevel: 100,
    staleLightLevel: 50,
    overTemperatureC: 35,
    overTemperatureClearC: 32,
    overTemperatureLightLevel: 20,
  },
  thresholds: { co2HighPpm: 1500, staleAfterMs: 30_000 },
  updateLock: { maxAgeS: 900 },
  actuators: { reconcileIntervalMs: 10_000 },
  alarms: DEFAULT_ALARMS_CONFIG,
  calibration: DEFAULT_CALIBRATION_CONFIG,
};

/** Rules the schema cannot say: hysteresis bands must be bands, a run must fit its limit. */
function crossFieldIssues(c: ModuleConfig): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (!isValidTimeZone(c.timezone)) {
    issues.push({ path: '/timezone', message: `"${c.timezone}" is not an IANA time zone name` });
  }
  if (c.climate.fanOffBelowC >= c.climate.fanOnAboveC) {
    issues.push({ path: '/climate/fanOffBelowC', message: 'must be below fanOnAboveC (hysteresis)' });
  }
  if (c.climate.fanOffBelowHumidity >= c.climate.fanOnAboveHumidity) {
    issues.push({
      path: '/climate/fanOffBelowHumidity',
      message: 'must be below fanOnAboveHumidity (hysteresis)',
    });
  }
  if (c.climate.overTemperatureClearC >= c.climate.overTemperatureC) {
    issues.push({
      path: '/climate/overTemperatureClearC',
      message: 'must be below overTemperatureC (hysteresis)',
    });
  }
  if (c.irrigation.runSeconds > c.irrigation.maxRunSeconds) {
    issues.push({ path: '/irrigation/runSeconds', message: 'must not exceed maxRunSeconds' });
  }
  if (c.irrigation.maxRunSeconds > c.irrigation.runWindowSeconds) {
    issues.push({ path: '/irrigation/maxRunSeconds', message: 'must not exceed runWindowSeconds' });
  }
  if (c.light.on === c.light.off) issues.push({ path: '/light/off', message: 'must differ from light.on' });
  issues.push(...alarmConfigIssues(c.alarms));
  return issues;
}

/** Validates a whole config; throws INVALID_MESSAGE naming every bad field. */
export function parseModuleConfig(value: unknown): ModuleConfig {
  const result = validate(ModuleConfig, value);
  if (!result.ok) throw new ProtocolError('INVALID_MESSAGE', 'invalid module config', result.errors);
  const issues = crossFieldIssues(result.value);
  if (issues.length > 0) throw new ProtocolError('INVALID_MESSAGE', 'invalid module config', issues);
  return result.value;
}

/** Applies a validated patch to a config and validates the result. */
export function applyConfigPatch(current: ModuleConfig, patch: unknown): ModuleConfig {
  const result = validate(ModuleConfigPatch, patch);
  if (!result.ok) throw new ProtocolError('INVALID_MESSAGE', 'invalid config change', result.errors);
  const p = result.value;
  return parseModuleConfig({
    timezone: p.timezone ?? current.timezone,
    light: { ...current.light, ...p.light },
    irrigation: { ...current.irrigation, ...p.irrigation },
    climate: { ...current.climate, ...p.climate },
    thresholds: { ...current.thresholds, ...p.thresholds },
    updateLock: { ...current.updateLock, ...p.updateLock },
    actuators: { ...current.actuators, ...p.actuators },
    alarms: { ...DEFAULT_ALARMS_CONFIG, ...current.alarms, ...p.alarms },
    calibration: { ...DEFAULT_CALIBRATION_CONFIG, ...current.calibration, ...p.calibration },
  });
}
