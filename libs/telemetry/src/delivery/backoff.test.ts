import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './backoff';

describe('backoff', () => {
  it('doubles per attempt with half of each step random, up to the cap', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(0, { ...o, random: () => 0 })).toBe(50);
    expect(backoffDelay(0, { ...o, random: () => 1 })).toBe(100);
    expect(backoffDelay(3, { ...o, random: () => 0.5 })).toBe(600);
    expect(backoffDelay(50, { ...o, random: () => 1 })).toBe(1000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('Fri, 27 Nov 2026 03:00:10 GMT', Date.parse('2026-11-27T03:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
