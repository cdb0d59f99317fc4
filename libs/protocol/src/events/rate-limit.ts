import type { Event } from '../messages/event';
import { createEvent, type EventType } from './create-event';

export interface EventRateLimit {
  /** Events of one type let through per window. */
  burst: number;
  windowMs: number;
}

/**
 * Default: 20 events of one type a minute; a flapping input, a command flood or a flood of refused
 * documents cannot fill a queue, a journal or the events topic.
 */
export const DEFAULT_EVENT_RATE_LIMIT: EventRateLimit = { burst: 20, windowMs: 60_000 };

/** The summary raised at the end of a window in which events of one type were held back. */
export const SUPPRESSED_EVENT_TYPE = 'event.suppressed' satisfies EventType;

interface Window {
  passed: number;
  suppressed: number;
  timer: NodeJS.Timeout;
}

/**
 * Lets at most `burst` events of each type through per window (starting with the first event of
 * the type); the rest are counted, and when the window closes one `event.suppressed` summary says
 * how many of that type were held back. The summaries themselves are not limited (one per type
 * per window at most).
 */
export class EventRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: EventRateLimit,
    private readonly summarise: (summary: Event) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the event may go out now. */
  admit(e: Event): boolean {
    if (e.type === SUPPRESSED_EVENT_TYPE) return true;
    let window = this.windows.get(e.type);
    if (!window) {
      const timer = setTimeout(() => this.close(e.type), this.limit.windowMs);
      timer.unref();
      window = { passed: 0, suppressed: 0, timer };
      this.windows.set(e.type, window);
    }
    if (window.passed < this.limit.burst) {
      window.passed += 1;
      return true;
    }
    window.suppressed += 1;
    return false;
  }

  private close(type: string): void {
    const window = this.windows.get(type);
    this.windows.delete(type);
    if (!window || window.suppressed === 0) return;
    const seconds = Math.round(this.limit.windowMs / 1000);
    this.summarise(
      createEvent(
        'event.suppressed',
        `suppressed ${window.suppressed} ${type} events in the last ${seconds} s (more than ${this.limit.burst})`,
        { type, suppressed: window.suppressed, passed: window.passed, windowMs: this.limit.windowMs },
        { ts: this.now() },
      ),
    );
  }

  /** Ends every window now, raising the summaries still due (on shutdown). */
  flush(): void {
    for (const [type, window] of [...this.windows]) {
      clearTimeout(window.timer);
      this.close(type);
    }
  }
}
