import { describe, expect, it } from 'vitest';
import { renderProgress } from './progress-view';
import type { WorkerStats } from './worker-protocol';

const base: WorkerStats = {
  modules: 50,
  connected: 50,
  readings: 1000,
  installs: 0,
  rejected: 0,
  phases: { idle: 50 },
  versions: { '1.0.0': 50 },
};

describe('renderProgress', () => {
  it('shows connections, the reading rate since the previous frame, versions and busy phases', () => {
    const now: WorkerStats = {
      ...base,
      connected: 49,
      readings: 1500,
      installs: 5,
      phases: { idle: 45, downloading: 3, installing: 2 },
      versions: { '1.10.0': 5, '1.0.0': 45 },
    };
    const line = renderProgress(now, 12_000, { stats: base, elapsedMs: 10_000 });
    expect(line).toBe(
      '[12.0s] · 49/50 connected · readings 250/s · versions 1.0.0×45 1.10.0×5 · updating: downloading 3, installing 2 · installs 5',
    );
  });

  it('says all idle and shows rejections when there are any', () => {
    expect(renderProgress({ ...base, rejected: 2 }, 1_000)).toBe(
      '[1.0s] · 50/50 connected · readings 0/s · versions 1.0.0×50 · all idle · installs 0 · rejected 2',
    );
  });
});
