import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Feature } from '../core-types';

export interface EventLoopLagSnapshot {
  /** Over the last full window (or since start, in the first one). */
  windowS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const ns = (n: number) => Math.round((Number.isFinite(n) ? n : 0) / 1e4) / 100;

/**
 * How late the event loop runs its timers: the thread that runs the HAL's timeouts and the control
 * loops. Shown in `/health`, so a stalled disk or a busy CPU that delays them is visible.
 */
export class EventLoopLag implements Feature {
  readonly name = 'event-loop-lag';
  private histogram?: IntervalHistogram;
  private timer?: NodeJS.Timeout;
  private last?: EventLoopLagSnapshot;

  constructor(private readonly windowMs = 60_000) {}

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.last = this.read();
      this.histogram?.reset();
    }, this.windowMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram?.disable();
  }

  snapshot(): EventLoopLagSnapshot {
    return this.last ?? this.read();
  }

  private read(): EventLoopLagSnapshot {
    const h = this.histogram;
    return {
      windowS: Math.round(this.windowMs / 1000),
      p50Ms: h ? ns(h.percentile(50)) : 0,
      p99Ms: h ? ns(h.percentile(99)) : 0,
      maxMs: h ? ns(h.max) : 0,
    };
  }
}
