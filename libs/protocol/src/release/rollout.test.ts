import { describe, expect, it } from 'vitest';
import { inRollout, rolloutBucket } from './rollout';

describe('rolloutBucket', () => {
  it('is the first 4 bytes of sha256(moduleId) modulo 10000', () => {
    // sha256("module-1") starts with 0x0a804b32 = 176180018.
    expect(rolloutBucket('module-1')).toBe(18);
  });

  it('gives the same bucket every time for the same module id', () => {
    expect(rolloutBucket('cabinet-42')).toBe(rolloutBucket('cabinet-42'));
  });

  it('spreads many module ids evenly over the buckets', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `module-${i}`);
    const under25 = ids.filter((id) => inRollout(id, 25)).length;
    expect(under25).toBeGreaterThan(2_300);
    expect(under25).toBeLessThan(2_700);
  });
});

describe('inRollout', () => {
  it('takes nobody at 0 % and everybody at 100 %', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `m${i}`);
    expect(ids.filter((id) => inRollout(id, 0))).toEqual([]);
    expect(ids.filter((id) => inRollout(id, 100))).toEqual(ids);
  });

  it('only ever adds modules when the percent widens', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `w${i}`);
    let previous = new Set<string>();
    for (const percent of [1, 5, 10, 50, 90]) {
      const now = new Set(ids.filter((id) => inRollout(id, percent)));
      for (const id of previous) expect(now.has(id)).toBe(true);
      previous = now;
    }
  });
});
