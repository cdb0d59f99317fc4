import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTelemetry, FILE_SINK_NAME } from './telemetry';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-file-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('createTelemetry without a URL', () => {
  it('appends line protocol to <dataDir>/telemetry.lp through the queue', async () => {
    const dataDir = tempDir();
    const t = await createTelemetry({ module: 'demo', dataDir, flushIntervalMs: 10 });
    t.metric({ sensor: 'ph', unit: 'pH', value: 6.2, quality: 'ok', ts: 1 });
    t.event({ type: 'boot', severity: 'info', message: 'up', ts: 2 });
    await t.flush();
    expect(t.stats()).toMatchObject({
      produced: 2,
      delivered: 2,
      queued: 0,
      sink: `file ${join(dataDir, FILE_SINK_NAME)}`,
    });
    expect(readFileSync(join(dataDir, FILE_SINK_NAME), 'utf8')).toBe(
      'sensor,module=demo,sensor=ph,unit=pH quality="ok",value=6.2 1000000\nevent,module=demo,severity=info,type=boot message="up" 2000000\n',
    );
    await t.close();
  });

  it('counts refused points so produced = delivered + dropped + queued, also after close', async () => {
    const dataDir = tempDir();
    const t = await createTelemetry({ module: 'demo', dataDir, flushIntervalMs: 10 });
    expect(t.metric({ sensor: 's', unit: 'u', value: Number.NaN, quality: 'ok' })).toBe(false);
    expect(t.metric({ sensor: 's', unit: 'u', value: 1, quality: 'ok' })).toBe(true);
    await t.close();
    expect(t.event({ type: 't', severity: 'info', message: 'late' })).toBe(false);
    const s = t.stats();
    expect(s).toMatchObject({ produced: 3, delivered: 1, dropped: { invalid: 1, closed: 1 }, queued: 0 });
    expect(s.lastError).toMatch(/not a finite number/);
  });

  it('signals backpressure at the high-water mark and lets producers wait until it drains', async () => {
    const dataDir = tempDir();
    const t = await createTelemetry({
      module: 'demo',
      dataDir,
      maxQueueBytes: 64 * 1024,
      flushIntervalMs: 60_000,
    });
    let i = 0;
    while (!t.stats().backpressure) t.metric({ sensor: 's', unit: 'u', value: i, quality: 'ok', ts: i++ });
    expect(t.stats().queuedBytes).toBeGreaterThanOrEqual(0.8 * 64 * 1024);
    // No flush interval to wait for: high water sends at once.
    await t.whenWritable();
    expect(t.stats().backpressure).toBe(false);
    expect(t.stats().delivered).toBeGreaterThan(0);
    await t.close();
    expect(t.stats()).toMatchObject({ produced: i, delivered: i, queued: 0 });
  });
});
