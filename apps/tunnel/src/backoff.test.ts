import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';

describe('reconnect backoff', () => {
  it('doubles from the minimum up to the maximum, each delay jittered within the upper half', () => {
    const low = new Backoff(1000, 8000, () => 0);
    expect([1, 2, 3, 4, 5].map(() => low.next())).toEqual([500, 1000, 2000, 4000, 4000]);
    const high = new Backoff(1000, 8000, () => 1);
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff(100, 1000, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('spreads modules that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff(1000, 60_000).next()));
    expect(delays.size).toBeGreaterThan(10);
  });
});
