import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EventLoopLag } from './event-loop-lag';

describe('EventLoopLag', () => {
  it('shows a blocked event loop as lag: the time the control timers ran late', async () => {
    const lag = new EventLoopLag();
    lag.start();
    // The sampler needs a few of its own ticks (10 ms) before and after the block.
    await delay(50);
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // Synchronous work, as a blocking fsync on a stalled SD card would hold the thread.
    }
    await delay(50);
    const snapshot = lag.snapshot();
    lag.stop();
    expect(snapshot.maxMs).toBeGreaterThanOrEqual(100);
    expect(snapshot.p99Ms).toBeGreaterThanOrEqual(100);
  });
});
