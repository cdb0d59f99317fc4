import { defineEnv, variable, type ConfigOf } from '@growoff/config';
import type { TelemetryOptions } from './options';

/** The `GROWOFF_TELEMETRY_*` section of an app's environment (see the README's configuration). */
export function telemetrySection() {
  return defineEnv({
    url: variable.url('GROWOFF_TELEMETRY_URL', {
      schemes: ['http', 'https'],
      description: "Telegraf's influxdb_v2_listener or an InfluxDB; unset: a file sink in the data dir",
    }),
    api: variable.oneOf('GROWOFF_TELEMETRY_API', ['v1', 'v2', 'auto'], {
      default: 'auto',
      description: "the write API; auto: by /ping's version header",
    }),
    bucket: variable.string('GROWOFF_TELEMETRY_BUCKET', {
      default: 'growoff',
      description: 'v2 bucket, v1 database',
    }),
    org: variable.string('GROWOFF_TELEMETRY_ORG', { description: 'v2 organisation' }),
    token: variable.string('GROWOFF_TELEMETRY_TOKEN', { secret: true, description: 'v2 token' }),
    username: variable.string('GROWOFF_TELEMETRY_USERNAME', { description: 'v1 user' }),
    password: variable.string('GROWOFF_TELEMETRY_PASSWORD', { secret: true, description: 'v1 password' }),
    retentionPolicy: variable.string('GROWOFF_TELEMETRY_RETENTION_POLICY', {
      description: 'v1 retention policy',
    }),
    fsyncIntervalMs: variable.integer('GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS', {
      min: 100,
      max: 3_600_000,
      description:
        'how often the disk queue is fsynced: longer saves the SD card, shorter loses less at a power cut',
    }),
  });
}

export type TelemetrySection = ConfigOf<ReturnType<typeof telemetrySection>>;

/** The options `createTelemetry` takes: the section read from the environment, for this module and data dir. */
export function telemetryOptionsOf(
  section: TelemetrySection,
  where: { module: string; dataDir: string },
): TelemetryOptions {
  return { ...section, ...where };
}
