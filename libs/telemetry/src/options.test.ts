import { describe, expect, it } from 'vitest';
import { TelemetryError } from './errors';
import { resolveOptions } from './options';

const defaults = { module: 'm1', dataDir: '/data' };

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
