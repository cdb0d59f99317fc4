import { describe, expect, it } from 'vitest';
import { PumpRunBudget } from './pump-budget';

const limits = { maxRunSeconds: 3, runWindowSeconds: 60, restSeconds: 10 };

describe('pump run budget', () => {
  it('a repeated "on" keeps the first start: the run ends 3 s after it, not 3 s after the last "on"', () => {
    const b = new PumpRunBudget();
    b.started(0);
    expect(b.remainingMs(0, limits)).toBe(3000);
    b.started(1500); // "on" again while running
    expect(b.remainingMs(1500, limits)).toBe(1500);
    expect(b.remainingMs(3000, limits)).toBe(0);
  });

  it('runs within the window add up', () => {
    const b = new PumpRunBudget();
    b.started(0);
    b.stopped(2000, limits);
    b.started(10_000);
    expect(b.usedMs(10_500, limits)).toBe(2500);
    expect(b.remainingMs(10_500, limits)).toBe(500);
  });

  it('runs older than the window no longer count', () => {
    const b = new PumpRunBudget();
    b.started(0);
    b.stopped(2000, limits);
    expect(b.remainingMs(61_000, limits)).toBe(2000); // half of the old run is still in the window
    expect(b.remainingMs(62_000, limits)).toBe(3000);
  });

  it('a used-up budget starts a rest that refuses until it ends, then pays the budget back in full', () => {
    const b = new PumpRunBudget();
    b.started(0);
    expect(b.exhausted(3000, limits)).toBe(13_000);
    expect(b.running()).toBe(false);
    expect(b.restingUntil(4500)).toBe(13_000);
    expect(b.remainingMs(12_999, limits)).toBe(0);
    expect(b.restingUntil(13_000)).toBeUndefined();
    expect(b.remainingMs(13_000, limits)).toBe(3000);
  });
});
