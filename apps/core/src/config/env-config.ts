import {
  defineEnv,
  moduleIdVariable,
  shutdownDeadlineVariable,
  optionalMqttSection,
  parseEnv,
  variable,
  type ConfigOf,
} from '@growoff/config';
import { telemetrySection } from '@growoff/telemetry';
import { isValidTimeZone } from '../control/local-time';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** The core's environment (see ARCHITECTURE.md and the README's configuration). */
export const CoreEnv = defineEnv({
  moduleId: moduleIdVariable(),
  /** Undefined when GROWOFF_MQTT_URL is unset: an embedded broker is started and the core connects to it. */
  mqtt: optionalMqttSection(),
  embeddedMqttHost: variable.string('GROWOFF_MQTT_EMBEDDED_HOST', {
    default: '127.0.0.1',
    description: 'the embedded broker, when no URL is set',
  }),
  embeddedMqttPort: variable.port('GROWOFF_MQTT_EMBEDDED_PORT', { default: 1883 }),
  httpHost: variable.string('GROWOFF_HTTP_HOST', { default: '127.0.0.1', description: 'the REST API' }),
  httpPort: variable.port('GROWOFF_HTTP_PORT', { default: 8080 }),
  httpToken: variable.string('GROWOFF_HTTP_TOKEN', {
    secret: true,
    description: 'bearer token; required when the host is not loopback',
  }),
  hal: variable.oneOf('GROWOFF_HAL', ['sim', 'i2c'], { default: 'sim' }),
  halProfileFile: variable.file('GROWOFF_HAL_PROFILE', { description: 'hardware profile (JSON)' }),
  i2cBus: variable.integer('GROWOFF_I2C_BUS', { min: 0 }),
  /** Simulation only: how much faster than real time the simulated cabinet runs. */
  simTimeScale: variable.number('GROWOFF_SIM_TIME_SCALE', { above: 0 }),
  dataDir: variable.path('GROWOFF_DATA_DIR', { default: 'data' }),
  timezone: variable.string('GROWOFF_TIMEZONE', {
    description: "IANA name, the module config's default (the base software writes the host's)",
  }),
  telemetry: telemetrySection(),
  shutdownDeadlineMs: shutdownDeadlineVariable(),
});

export type CoreEnvConfig = ConfigOf<typeof CoreEnv>;

/** The protocol the core speaks to its embedded broker, which speaks 3.1.1 only. */
export const EMBEDDED_PROTOCOL_VERSION = 4;

/** Reads and validates the core's environment; throws one CONFIG_INVALID naming every bad variable. */
export function coreConfigFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): CoreEnvConfig {
  return parseEnv(CoreEnv, env, {
    cwd,
    refine: (c) => [
      ...(!LOOPBACK.has(c.httpHost) && c.httpToken === undefined
        ? [
            {
              variable: 'GROWOFF_HTTP_TOKEN',
              expected: `a token, since GROWOFF_HTTP_HOST (${c.httpHost}) is not loopback`,
            },
          ]
        : []),
      ...(c.timezone !== undefined && !isValidTimeZone(c.timezone)
        ? [{ variable: 'GROWOFF_TIMEZONE', expected: 'an IANA time zone name (e.g. Europe/Berlin)' }]
        : []),
    ],
  });
}
