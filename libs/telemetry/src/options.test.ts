import { describe, expect, it } from 'vitest';
import { TelemetryError } from './errors';
import { resolveOptions, telemetryOptionsFromEnv } from './options';

const defaults = { module: 'm1', dataDir: '/data' };

describe('telemetryOptionsFromEnv', () => {
  it('reads the GROWOFF_TELEMETRY_* variables', () => {
    expect(
      telemetryOptionsFromEnv(
        {
          GROWOFF_TELEMETRY_URL: 'http://127.0.0.1:8186',
          GROWOFF_TELEMETRY_API: 'v2',
          GROWOFF_TELEMETRY_BUCKET: 'cab',
          GROWOFF_TELEMETRY_TOKEN: 'secret',
          GROWOFF_TELEMETRY_USERNAME: 'u',
          GROWOFF_TELEMETRY_PASSWORD: 'p',
          GROWOFF_TELEMETRY_RETENTION_POLICY: 'week',
          GROWOFF_TELEMETRY_ORG: 'grow',
        },
        defaults,
      ),
    ).toEqual({
      ...defaults,
      url: 'http://127.0.0.1:8186',
      api: 'v2',
      bucket: 'cab',
      token: 'secret',
      username: 'u',
      password: 'p',
      retentionPolicy: 'week',
      org: 'grow',
    });
  });

  it('leaves the URL unset (file sink) when the variable is empty', () => {
    expect(telemetryOptionsFromEnv({ GROWOFF_TELEMETRY_URL: ' ' }, defaults)).toEqual(defaults);
  });

  it('refuses a bad value naming the variable', () => {
    expect(() => telemetryOptionsFromEnv({ GROWOFF_TELEMETRY_API: 'v3' }, defaults)).toThrow(
      /GROWOFF_TELEMETRY_API/,
    );
    expect(() => telemetryOptionsFromEnv({ GROWOFF_TELEMETRY_URL: 'ftp://x' }, defaults)).toThrow(
      /GROWOFF_TELEMETRY_URL/,
    );
    for (const bad of ['0', '50', '1.5', 'soon', '99999999']) {
      expect(() => telemetryOptionsFromEnv({ GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS: bad }, defaults)).toThrow(
        /GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS/,
      );
    }
  });

  it('takes the durability (fsync) interval from GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS', () => {
    expect(
      telemetryOptionsFromEnv({ GROWOFF_TELEMETRY_FSYNC_INTERVAL_MS: '30000' }, defaults).fsyncIntervalMs,
    ).toBe(30_000);
  });
});

describe('resolveOptions', () => {
  it('fills the defaults: auto API, bucket growoff, queue in <dataDir>/telemetry-queue', () => {
    expect(resolveOptions(defaults)).toMatchObject({
      api: 'auto',
      bucket: 'growoff',
      queueDir: '/data/telemetry-queue',
      maxQueueBytes: 64 * 1024 * 1024,
      batchSize: 5000,
      fsyncIntervalMs: 10_000,
      readingsRatio: 0.9,
    });
  });

  it('refuses nonsense with a coded error', () => {
    const attempt = () => resolveOptions({ ...defaults, maxQueueBytes: -1 });
    expect(attempt).toThrow(TelemetryError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'TELEMETRY_BAD_OPTION' }));
  });
});
