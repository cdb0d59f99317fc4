import { resolve } from 'node:path';
import { isValidTopicSegment } from '@growoff/protocol';
import { telemetryOptionsFromEnv, type TelemetryOptions } from '@growoff/telemetry';
import { isValidTimeZone } from '../control/local-time';

/** A bad environment value; the message names the variable. */
export class EnvConfigError extends Error {
  override readonly name = 'EnvConfigError';
  readonly code = 'CORE_BAD_ENV';

  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export interface CoreEnvConfig {
  moduleId: string;
  /** Unset: an embedded broker is started on embeddedMqttPort and the core connects to it. */
  mqttUrl?: string;
  embeddedMqttHost: string;
  embeddedMqttPort: number;
  mqttUsername?: string;
  mqttPassword?: string;
  /** PEM file paths for TLS (mqtts:// or wss://): CA, client certificate and key. */
  mqttCaFile?: string;
  mqttCertFile?: string;
  mqttKeyFile?: string;
  /** 5 (default) or 4 (3.1.1). The embedded broker speaks 3.1.1 only. */
  mqttProtocolVersion: 4 | 5;
  httpHost: string;
  httpPort: number;
  /** Required when httpHost is not loopback. */
  httpToken?: string;
  hal: 'sim' | 'i2c';
  halProfileFile?: string;
  i2cBus?: number;
  /** Simulation only: how much faster than real time the simulated cabinet runs. */
  simTimeScale?: number;
  dataDir: string;
  /** GROWOFF_TIMEZONE (IANA name, written by the base software from the host): the module config's default. */
  timezone?: string;
  telemetry: TelemetryOptions;
  shutdownDeadlineMs: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new EnvConfigError(name, `"${raw}" is not a port (0-65535)`);
  return n;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new EnvConfigError(name, `"${raw}" is not a positive number`);
  return n;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** Reads and validates the core's environment (see ARCHITECTURE.md); throws EnvConfigError. */
export function coreConfigFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): CoreEnvConfig {
  const moduleId = optional(env, 'GROWOFF_MODULE_ID') ?? 'dev-module';
  if (!isValidTopicSegment(moduleId)) {
    throw new EnvConfigError('GROWOFF_MODULE_ID', `"${moduleId}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
  const mqttUrl = optional(env, 'GROWOFF_MQTT_URL');
  if (mqttUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(mqttUrl);
    } catch {
      throw new EnvConfigError('GROWOFF_MQTT_URL', `"${mqttUrl}" is not a URL`);
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'tls:'].includes(url.protocol)) {
      throw new EnvConfigError(
        'GROWOFF_MQTT_URL',
        `unsupported scheme ${url.protocol} (mqtt, mqtts, ws, wss)`,
      );
    }
  }
  const versionRaw = optional(env, 'GROWOFF_MQTT_PROTOCOL_VERSION') ?? (mqttUrl === undefined ? '4' : '5');
  if (versionRaw !== '4' && versionRaw !== '5') {
    throw new EnvConfigError('GROWOFF_MQTT_PROTOCOL_VERSION', `"${versionRaw}" must be 5 or 4 (3.1.1)`);
  }
  const hal = optional(env, 'GROWOFF_HAL') ?? 'sim';
  if (hal !== 'sim' && hal !== 'i2c') throw new EnvConfigError('GROWOFF_HAL', `"${hal}" must be sim or i2c`);
  const httpHost = optional(env, 'GROWOFF_HTTP_HOST') ?? '127.0.0.1';
  const httpToken = optional(env, 'GROWOFF_HTTP_TOKEN');
  if (!LOOPBACK.has(httpHost) && httpToken === undefined) {
    throw new EnvConfigError(
      'GROWOFF_HTTP_TOKEN',
      `required when GROWOFF_HTTP_HOST (${httpHost}) is not loopback`,
    );
  }
  const i2cBusRaw = optional(env, 'GROWOFF_I2C_BUS');
  const i2cBus = i2cBusRaw === undefined ? undefined : Number(i2cBusRaw);
  if (i2cBus !== undefined && (!Number.isInteger(i2cBus) || i2cBus < 0)) {
    throw new EnvConfigError('GROWOFF_I2C_BUS', `"${i2cBusRaw}" is not a bus number`);
  }
  const dataDir = resolve(cwd, optional(env, 'GROWOFF_DATA_DIR') ?? 'data');
  const timezone = optional(env, 'GROWOFF_TIMEZONE');
  if (timezone !== undefined && !isValidTimeZone(timezone)) {
    throw new EnvConfigError(
      'GROWOFF_TIMEZONE',
      `"${timezone}" is not an IANA time zone name (e.g. Europe/Berlin)`,
    );
  }
  return {
    moduleId,
    mqttUrl,
    embeddedMqttHost: optional(env, 'GROWOFF_MQTT_EMBEDDED_HOST') ?? '127.0.0.1',
    embeddedMqttPort: port(env, 'GROWOFF_MQTT_EMBEDDED_PORT', 1883),
    mqttUsername: optional(env, 'GROWOFF_MQTT_USERNAME'),
    mqttPassword: optional(env, 'GROWOFF_MQTT_PASSWORD'),
    mqttCaFile: optional(env, 'GROWOFF_MQTT_CA'),
    mqttCertFile: optional(env, 'GROWOFF_MQTT_CERT'),
    mqttKeyFile: optional(env, 'GROWOFF_MQTT_KEY'),
    mqttProtocolVersion: versionRaw === '4' ? 4 : 5,
    httpHost,
    httpPort: port(env, 'GROWOFF_HTTP_PORT', 8080),
    httpToken,
    hal,
    halProfileFile: optional(env, 'GROWOFF_HAL_PROFILE'),
    i2cBus,
    simTimeScale: positiveNumber(env, 'GROWOFF_SIM_TIME_SCALE'),
    timezone,
    dataDir,
    telemetry: telemetryOptionsFromEnv(env, { module: moduleId, dataDir }),
    shutdownDeadlineMs: positiveNumber(env, 'GROWOFF_SHUTDOWN_DEADLINE_MS') ?? 5000,
  };
}

function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '***';
  }
}

/** The effective configuration for the start banner, secrets masked. */
export function describeConfig(c: CoreEnvConfig): Record<string, unknown> {
  return {
    ...c,
    mqttUrl:
      c.mqttUrl === undefined
        ? `embedded (mqtt://${c.embeddedMqttHost}:${c.embeddedMqttPort})`
        : maskUrl(c.mqttUrl),
    mqttPassword: c.mqttPassword === undefined ? undefined : '***',
    httpToken: c.httpToken === undefined ? undefined : '***',
    telemetry: {
      ...c.telemetry,
      url: c.telemetry.url === undefined ? 'file sink in the data dir' : maskUrl(c.telemetry.url),
      token: c.telemetry.token === undefined ? undefined : '***',
      password: c.telemetry.password === undefined ? undefined : '***',
    },
  };
}
