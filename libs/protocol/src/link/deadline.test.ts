import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settleWithin } from './deadline';

describe('settleWithin', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is true when the work resolves or rejects before the deadline', async () => {
    await expect(settleWithin(Promise.resolve('done'), 1000)).resolves.toBe(true);
    await expect(settleWithin(Promise.reject(new Error('failed')), 1000)).resolves.toBe(true);
  });

  it('is false at the deadline when the work never settles, and leaves no timer behind', async () => {
    const outcome = settleWithin(new Promise(() => undefined), 1000);
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void outcome.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(outcome).resolves.toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});
