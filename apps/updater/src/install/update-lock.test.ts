import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCK_MAX_AGE_S, lockRemainingMs } from './update-lock';

describe('lockRemainingMs', () => {
  it('does not hold an update when the lock is free or absent', () => {
    expect(lockRemainingMs(null, 1000)).toBe(0);
    expect(lockRemainingMs({ held: false }, 1000)).toBe(0);
  });

  it('holds an update until the lock reaches its max age', () => {
    expect(lockRemainingMs({ held: true, since: 1000, maxAgeS: 10 }, 5000)).toBe(6000);
    expect(lockRemainingMs({ held: true, since: 1000, maxAgeS: 10 }, 12_000)).toBe(0);
  });

  it('caps a lock without a max age at the default', () => {
    expect(lockRemainingMs({ held: true, since: 0 }, 0)).toBe(DEFAULT_LOCK_MAX_AGE_S * 1000);
  });
});
