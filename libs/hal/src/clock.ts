import { realTimers } from './timer-queue';

/** Device and simulation time. Drivers wait on it so a simulation can run faster than real time. */
export interface Clock {
  /** Milliseconds on this clock's time line. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Calls fn after ms; returns a cancel function (timeouts must not outlive what they guard). */
  timer(ms: number, fn: () => void): () => void;
  /** Real milliseconds per clock millisecond (1 / timeScale). */
  readonly realPerClockMs: number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  // One shared real timer for all of them (see TimerQueue): timeouts are set and cancelled per transaction.
  timer: (ms, fn) => realTimers.set(ms, fn),
  realPerClockMs: 1,
};

/** Shortest real delay of a scaled clock's timers (timeouts). */
export const TIMER_FLOOR_REAL_MS = 1000;

/**
 * A clock running `timeScale` times faster than real time: a 900 ms conversion
 * takes 0.9 ms at timeScale 1000, and the simulated cabinet ages accordingly.
 */
export function scaledClock(timeScale: number): Clock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new RangeError('timeScale must be a positive number');
  const origin = performance.now();
  const wait = (_ms: number, fn: () => void, real: number) => {
    if (real < 1) {
      const t = setImmediate(fn);
      return () => clearImmediate(t);
    }
    return realTimers.set(real, fn);
  };
  return {
    now: () => (performance.now() - origin) * timeScale,
    // Resolves only once the clock has really advanced by ms, however short the real wait.
    sleep: (ms) =>
      new Promise((resolve) => {
        const target = performance.now() + ms / timeScale;
        const check = () => {
          const left = target - performance.now();
          if (left <= 0) resolve();
          else wait(0, check, left);
        };
        check();
      }),
    // Timeouts guard real I/O too (files, the event loop), which does not speed up with the simulation.
    timer: (ms, fn) => wait(ms, fn, Math.max(ms / timeScale, Math.min(ms, TIMER_FLOOR_REAL_MS))),
    realPerClockMs: 1 / timeScale,
  };
}

/** A clock for tests, whose time moves only when slept on or advanced. */
export interface SteppedClock extends Clock {
  /** Moves time on by `ms`, firing the timers that fall due, in due order. */
  advance(ms: number): void;
}

/**
 * A clock whose time moves only when something sleeps on it (by the sleep's length) or a test
 * advances it: a device model and its driver then see exactly the waits the driver makes, whatever
 * the machine's load (a scaled clock's milliseconds of real time are not).
 */
export function steppedClock(start = 0): SteppedClock {
  let now = start;
  const timers: Array<{ due: number; fn: () => void }> = [];
  const advance = (ms: number) => {
    now += ms;
    for (;;) {
      const due = timers.filter((t) => t.due <= now).sort((a, b) => a.due - b.due)[0];
      if (!due) return;
      timers.splice(timers.indexOf(due), 1);
      due.fn();
    }
  };
  return {
    now: () => now,
    sleep: (ms) => {
      advance(ms);
      return Promise.resolve();
    },
    timer: (ms, fn) => {
      const t = { due: now + ms, fn };
      timers.push(t);
      return () => {
        const i = timers.indexOf(t);
        if (i >= 0) timers.splice(i, 1);
      };
    },
    advance,
    realPerClockMs: 0,
  };
}

/** Races an operation against a clock timeout, cancelling the timer once the operation settles. */
export function withTimeout<T>(clock: Clock, ms: number, op: Promise<T>, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.timer(ms, () => reject(onTimeout()));
    op.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e: unknown) => {
        cancel();
        reject(e);
      },
    );
  });
}
