import { SUPPRESSED_EVENT_TYPE } from '@growoff/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Event } from '../core-types';
import { EventBus } from '../event-bus';
import { raiseEvent } from './events';

describe('event rate limit', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets a burst of each type through, holds the flood back and summarises it as "suppressed N"', () => {
    const bus = new EventBus({ eventRateLimit: { burst: 5, windowMs: 10_000 } });
    const seen: Event[] = [];
    bus.on('event', (e) => seen.push(e));
    for (let i = 0; i < 100; i += 1)
      raiseEvent(bus, 'command.rejected', 'warning', `bad ${i}`, { code: 'BAD_JSON' });
    raiseEvent(bus, 'water_level.low', 'critical', 'low', { value: 0 });
    expect(seen.map((e) => e.type)).toEqual([...Array(5).fill('command.rejected'), 'water_level.low']);

    vi.advanceTimersByTime(10_000);
    const summary = seen.at(-1) as Event;
    expect(summary).toMatchObject({
      type: SUPPRESSED_EVENT_TYPE,
      severity: 'warning',
      data: { type: 'command.rejected', suppressed: 95, passed: 5 },
    });
    expect(summary.message).toMatch(/suppressed 95 command\.rejected/);
    // water_level.low was not flooding: no summary for it.
    expect(seen.filter((e) => e.type === SUPPRESSED_EVENT_TYPE)).toHaveLength(1);

    // A new window lets the next burst through.
    raiseEvent(bus, 'command.rejected', 'warning', 'again', { code: 'BAD_JSON' });
    expect(seen.at(-1)?.message).toBe('again');
  });

  it('raises the summary still due when flushed on shutdown', () => {
    const bus = new EventBus({ eventRateLimit: { burst: 1, windowMs: 60_000 } });
    const seen: Event[] = [];
    bus.on('event', (e) => seen.push(e));
    raiseEvent(bus, 'water_level.ok', 'info', 'a', { value: 1 });
    raiseEvent(bus, 'water_level.ok', 'info', 'b', { value: 1 });
    bus.flushEventSummaries();
    expect(seen.map((e) => e.type)).toEqual(['water_level.ok', SUPPRESSED_EVENT_TYPE]);
  });
});
