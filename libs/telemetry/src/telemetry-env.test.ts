import { defineEnv, describe as describeConfig, parseEnv } from '@growoff/config';
import { describe, expect, it } from 'vitest';
import { telemetryOptionsOf, telemetrySection } from './telemetry-env';

const Env = defineEnv({ telemetry: telemetrySection() });
const where = { module: 'm1', dataDir: '/data' };

describe('the telemetry section', () => {
  it('reads the GROWOFF_TELEMETRY_* variables', () => {
    const config = parseEnv(Env, {
      GROWOFF_TELEMETRY_URL: 'http://127.0.0.1:8186',
      GROWOFF_TELEMETRY_API: 'v2',
      GROWOFF_TELEMETRY_BUCKET: 'cab',
      GROWOFF_TELEMETRY_TOKEN: 'tok-secret',
      GROWOFF_TELEMETRY_USERNAME: 'u',
      GROWOFF_TELEMETRY_PASSWORD: 'pw-secret',
      GROWOFF_TELEMETRY_RETENTION_POLICY: 'week',
      GROWOFF_TELEMETRY_ORG: 'grow',
      GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS: '30000',
    });
    expect(telemetryOptionsOf(config.telemetry, where)).toEqual({
      ...where,
      url: 'http://127.0.0.1:8186',
      api: 'v2',
      bucket: 'cab',
      token: 'tok-secret',
      username: 'u',
      password: 'pw-secret',
      retentionPolicy: 'week',
      org: 'grow',
      fsyncIntervalMs: 30_000,
    });
    expect(describeConfig(config)).not.toMatch(/tok-secret|pw-secret/);
  });

  it('leaves the URL unset (file sink) when the variable is empty, with api auto and bucket growoff', () => {
    expect(telemetryOptionsOf(parseEnv(Env, { GROWOFF_TELEMETRY_URL: ' ' }).telemetry, where)).toEqual({
      ...where,
      api: 'auto',
      bucket: 'growoff',
    });
  });

  it('refuses a durability (fsync) interval outside 100 ms to 1 h, naming the variable', () => {
    for (const bad of ['50', '3600001', '1.5', 'soon']) {
      expect(() => parseEnv(Env, { GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS: bad })).toThrow(
        /GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS/,
      );
    }
  });

  it('refuses a bad value naming the variable', () => {
    expect(() => parseEnv(Env, { GROWOFF_TELEMETRY_API: 'v3' })).toThrow(
      /GROWOFF_TELEMETRY_API: expected one of v1, v2, auto/,
    );
    expect(() => parseEnv(Env, { GROWOFF_TELEMETRY_URL: 'ftp://x' })).toThrow(
      /GROWOFF_TELEMETRY_URL: expected a URL with scheme http, https/,
    );
  });
});
