import { withTimeout, type Clock } from '../clock';
import { HalError, isHalError, isTransient, isValueFault, messageOf } from '../errors';
import type { BusHealth, DeviceHealth } from '../types';
import { I2C_BUS_METHODS, type I2cBus } from './i2c-bus';

export interface SupervisorOptions {
  /** Longest a single bus transaction may take before it counts as a timeout (clock ms). */
  transactionTimeoutMs: number;
}

/**
 * Urgent transactions that may start in a row while ordinary ones wait: a command's write and its
 * read-back fit, and a sensor read is never held back by more than this many.
 */
export const MAX_URGENT_STREAK = 8;

/** A transaction waiting for the bus: its device (undefined: the shared, untagged view), call and caller. */
interface Waiting {
  device: string | undefined;
  method: string;
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (e: unknown) => void;
}

type BusCall = (...args: unknown[]) => Promise<unknown>;

/**
 * Serialises a bus: one transaction at a time, each bounded by a timeout.
 * A timed-out transaction keeps the bus until it really ends, since an ioctl cannot be cancelled.
 *
 * A device marked urgent (`urgent`, e.g. an actuator while a command to it runs) goes ahead of the
 * others: its transactions wait only behind the one on the bus, not behind queued sensor reads. Two
 * guards keep that safe: a device's transactions are never reordered (one queued behind another of
 * the same device stays behind it), and after MAX_URGENT_STREAK urgent transactions in a row a waiting
 * ordinary one takes its turn, so reads are never starved.
 *
 * Since only one transaction is ever on the bus, its caller and its timeout are fields of the bus,
 * not closures of each transaction: a reading takes two transactions, and on a fast bus their
 * allocations cost more than the transfers.
 */
export class SupervisedBus {
  /** The bus as one untagged view (every transaction ordinary, in order). */
  readonly bus: I2cBus;
  /** A transaction holds the bus (it may have timed out for its caller, not ended yet). */
  private busy = false;
  /** The caller of the transaction on the bus, until it has its outcome (the result or a timeout). */
  private settled = true;
  private resolveCaller: (value: unknown) => void = noop;
  private rejectCaller: (e: unknown) => void = noop;
  private cancelTimeout: () => void = noop;
  /** Transactions waiting for the bus, in order: urgent devices' and the others'. */
  private readonly urgentWaiting: Waiting[] = [];
  private readonly waiting: Waiting[] = [];
  /** Urgent transactions started in a row while ordinary ones waited. */
  private urgentStreak = 0;
  /** Devices marked urgent, with how many marks each holds. */
  private readonly urgentDevices = new Map<string, number>();
  private readonly counters: BusHealth;

  constructor(
    private readonly inner: I2cBus,
    path: string,
    private readonly clock: Clock,
    private readonly options: SupervisorOptions,
  ) {
    this.counters = { path, transactions: 0, errors: 0, timeouts: 0 };
    this.bus = this.forDevice(undefined);
  }

  /** The bus as one device's driver sees it: its transactions are tagged with the device. */
  forDevice(device: string | undefined): I2cBus {
    const bus = {} as Record<string, BusCall>;
    const inner = this.inner;
    for (const method of I2C_BUS_METHODS) {
      bus[method] =
        method === 'close'
          ? () => inner.close()
          : (...args: unknown[]) => this.transaction(device, method, args);
    }
    return bus as unknown as I2cBus;
  }

  /**
   * Runs `op` with `device` marked urgent: its transactions go ahead of other devices' until `op`
   * settles (marks nest: the device stays urgent while any is held).
   */
  urgent<T>(device: string, op: () => Promise<T>): Promise<T> {
    this.mark(device, 1);
    return started(op).then(
      (value) => {
        this.mark(device, -1);
        return value;
      },
      (e: unknown) => {
        this.mark(device, -1);
        throw e;
      },
    );
  }

  private mark(device: string, by: 1 | -1): void {
    const marks = (this.urgentDevices.get(device) ?? 0) + by;
    if (marks === 0) this.urgentDevices.delete(device);
    else this.urgentDevices.set(device, marks);
  }

  health(): BusHealth {
    return { ...this.counters };
  }

  private transaction(device: string | undefined, method: string, args: unknown[]): Promise<unknown> {
    if (this.busy)
      return new Promise((resolve, reject) =>
        this.queueFor(device).push({ device, method, args, resolve, reject }),
      );
    const caller = new Promise(this.takeCaller);
    this.start(method, args);
    return caller;
  }

  /** The executor of a transaction started at once: the bus holds its caller. */
  private readonly takeCaller = (resolve: (value: unknown) => void, reject: (e: unknown) => void) => {
    this.resolveCaller = resolve;
    this.rejectCaller = reject;
  };

  /**
   * Where a device's transaction waits: behind one of its own device already waiting, wherever that
   * is (each queue is in order, so a device's transactions are never reordered); else by urgency.
   */
  private queueFor(device: string | undefined): Waiting[] {
    if (device === undefined) return this.waiting;
    if (this.waiting.some((w) => w.device === device)) return this.waiting;
    if (this.urgentDevices.has(device) || this.urgentWaiting.some((w) => w.device === device))
      return this.urgentWaiting;
    return this.waiting;
  }

  /**
   * Runs one transaction for the caller the bus holds, bounded by the transaction timeout. The bus
   * stays held until the transaction really ends, even after its caller saw a timeout: an ioctl
   * cannot be cancelled.
   */
  private start(method: string, args: unknown[]): void {
    this.busy = true;
    this.settled = false;
    this.counters.transactions++;
    const op = started((this.inner as unknown as Record<string, BusCall>)[method]!, this.inner, args);
    this.cancelTimeout = this.clock.timer(this.options.transactionTimeoutMs, this.timedOut);
    op.then(this.ended, this.failed);
  }

  private readonly timedOut = (): void => {
    if (this.settled) return;
    this.counters.timeouts++;
    this.fail(
      new HalError(
        'HAL_TIMEOUT',
        `I2C transaction on ${this.counters.path} took longer than ${this.options.transactionTimeoutMs} ms`,
      ),
    );
  };

  private readonly ended = (value: unknown): void => {
    this.cancelTimeout();
    if (!this.settled) {
      this.settled = true;
      this.resolveCaller(value);
    }
    this.release();
  };

  private readonly failed = (e: unknown): void => {
    this.cancelTimeout();
    if (!this.settled) this.fail(e);
    this.release();
  };

  private fail(e: unknown): void {
    this.settled = true;
    this.counters.errors++;
    this.counters.lastError = messageOf(e);
    this.rejectCaller(e);
  }

  private release(): void {
    const next = this.nextWaiting();
    if (!next) {
      this.busy = false;
      return;
    }
    this.resolveCaller = next.resolve;
    this.rejectCaller = next.reject;
    this.start(next.method, next.args);
  }

  /** Urgent first, but an ordinary transaction waits behind at most MAX_URGENT_STREAK urgent ones. */
  private nextWaiting(): Waiting | undefined {
    if (this.waiting.length === 0) {
      this.urgentStreak = 0;
      return this.urgentWaiting.shift();
    }
    if (this.urgentWaiting.length > 0 && this.urgentStreak < MAX_URGENT_STREAK) {
      this.urgentStreak++;
      return this.urgentWaiting.shift();
    }
    this.urgentStreak = 0;
    return this.waiting.shift();
  }
}

export interface GuardOptions {
  retries: number;
  backoffMs: number;
  /** Consecutive failed operations that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses operations before one recovery attempt (clock ms). */
  openMs: number;
  /** Longest one operation (e.g. a whole measurement with its conversion wait) may take (clock ms). */
  operationTimeoutMs: number;
}

export const DEFAULT_GUARD_OPTIONS: GuardOptions = {
  retries: 2,
  backoffMs: 20,
  failureThreshold: 3,
  openMs: 30_000,
  operationTimeoutMs: 3000,
};

/**
 * One device's supervisor: its operations run one at a time, bounded by a timeout,
 * retried with exponential backoff; repeated failures open a circuit breaker, and the
 * operation after a failure starts with recovery (soft reset, then re-init). An operation that
 * timed out still holds the device until it really ends (a retry never overlaps it), and a wait
 * for it is itself bounded by one operation timeout.
 *
 * A healthy device's first attempt takes a path of its own, with its caller and timeout held in
 * fields (operations are one at a time) rather than in an async function's closures: that is every
 * reading of a working cabinet. Any failure hands the operation to the general path, from its retries.
 */
export class DeviceGuard {
  private readonly counters: DeviceHealth = {
    state: 'ok',
    errors: 0,
    retries: 0,
    recoveries: 0,
    timeouts: 0,
  };
  private readonly options: GuardOptions;
  private consecutiveFailures = 0;
  private openedAt = 0;
  private needsInit = true;
  private initialised = false;
  /** An operation (with its retries) is under way; the next ones wait in `waiting`, in order. */
  private busy = false;
  private readonly waiting: Array<() => void> = [];
  /** An operation that timed out but has not ended yet: nothing else may reach the device until it does. */
  private running?: Promise<void>;
  /** The first attempt on the healthy path: its operation, its run and its caller until it has an outcome. */
  private op: () => Promise<unknown> = () => Promise.resolve();
  private current: Promise<unknown> = Promise.resolve();
  private settled = true;
  private resolveCaller: (value: unknown) => void = noop;
  private rejectCaller: (e: unknown) => void = noop;
  private cancelTimeout: () => void = noop;

  constructor(
    readonly name: string,
    private readonly clock: Clock,
    private readonly device: { init(): Promise<void>; reset(): Promise<void> },
    options: Partial<GuardOptions> = {},
  ) {
    this.options = { ...DEFAULT_GUARD_OPTIONS, ...options };
  }

  health(): DeviceHealth {
    return { ...this.counters };
  }

  run<T>(op: () => Promise<T>): Promise<T> {
    if (!this.busy) return this.execute(op);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => void this.execute(op).then(resolve, reject));
    });
  }

  private execute<T>(op: () => Promise<T>): Promise<T> {
    this.busy = true;
    if (this.counters.state === 'ok' && !this.needsInit && !this.running) {
      const caller = new Promise(this.takeCaller) as Promise<T>;
      this.op = op;
      this.settled = false;
      this.current = started(op);
      this.cancelTimeout = this.clock.timer(this.options.operationTimeoutMs, this.timedOut);
      this.current.then(this.ended, this.failed);
      return caller;
    }
    const result = this.attempt(op, 0, undefined);
    result.then(this.next, this.next);
    return result;
  }

  private readonly takeCaller = (resolve: (value: unknown) => void, reject: (e: unknown) => void) => {
    this.resolveCaller = resolve;
    this.rejectCaller = reject;
  };

  /** The healthy path's attempt succeeded: the device stays `ok`, with no failures to clear. */
  private readonly ended = (value: unknown): void => {
    if (this.settled) return; // it timed out before it ended
    this.settled = true;
    this.cancelTimeout();
    this.resolveCaller(value);
    this.next();
  };

  private readonly failed = (e: unknown): void => {
    if (this.settled) return;
    this.settled = true;
    this.cancelTimeout();
    this.firstAttemptFailed(e);
  };

  private readonly timedOut = (): void => {
    if (this.settled) return;
    this.settled = true;
    this.holdUntilEnded(this.current);
    this.firstAttemptFailed(this.timeoutError());
  };

  /** As the general path treats a failed attempt; a transient fault goes on to its retries there. */
  private firstAttemptFailed(e: unknown): void {
    const resolve = this.resolveCaller;
    const reject = this.rejectCaller;
    if (isValueFault(e)) {
      reject(e);
      this.next();
      return;
    }
    if (isHalError(e) && e.code === 'HAL_TIMEOUT') this.counters.timeouts++;
    if (!isTransient(e)) {
      this.fail(e);
      reject(e);
      this.next();
      return;
    }
    const rest = this.attempt(this.op, 1, e);
    rest.then(resolve, reject);
    rest.then(this.next, this.next);
  }

  /** Starts the next waiting operation once one has ended (succeeded or failed). */
  private readonly next = (): void => {
    const start = this.waiting.shift();
    if (start) start();
    else this.busy = false;
  };

  private timeoutError(): HalError {
    return new HalError(
      'HAL_TIMEOUT',
      `${this.name} did not answer within ${this.options.operationTimeoutMs} ms`,
      { device: this.name },
    );
  }

  /** Attempts `op` from attempt `from` (after `lastError` if it is not the first) until one succeeds. */
  private async attempt<T>(op: () => Promise<T>, from: number, lastError: unknown): Promise<T> {
    if (from === 0 && this.counters.state === 'open') {
      const waited = this.clock.now() - this.openedAt;
      if (waited < this.options.openMs) {
        throw new HalError(
          'HAL_CIRCUIT_OPEN',
          `device ${this.name} is out of service after repeated failures (${this.counters.lastError ?? 'unknown'}); next attempt in ${Math.ceil((this.options.openMs - waited) / 1000)} s`,
          { device: this.name },
        );
      }
    }
    for (let attempt = from; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) {
        this.counters.retries++;
        await this.clock.sleep(this.options.backoffMs * 2 ** (attempt - 1));
      }
      try {
        if (this.running) await this.untilIdle();
        const run = this.needsInit ? this.once(op) : started(op);
        const value = await withTimeout(this.clock, this.options.operationTimeoutMs, run, () => {
          this.holdUntilEnded(run);
          return this.timeoutError();
        });
        if (this.counters.state !== 'ok') this.counters.recoveries++;
        this.counters.state = 'ok';
        this.consecutiveFailures = 0;
        return value;
      } catch (e) {
        lastError = e;
        if (isValueFault(e)) throw e;
        if (isHalError(e) && e.code === 'HAL_TIMEOUT') this.counters.timeouts++;
        if (!isTransient(e)) break;
      }
    }
    this.fail(lastError);
    throw lastError;
  }

  /** A timed-out operation keeps the device: a retry or the next operation must not overlap it. */
  private holdUntilEnded(run: Promise<unknown>): void {
    const ended = run.then(
      () => undefined,
      () => undefined,
    );
    this.running = ended;
    void ended.then(() => {
      if (this.running === ended) this.running = undefined;
    });
  }

  /** Waits (at most one operation timeout) for a timed-out operation to end; refuses if it does not. */
  private async untilIdle(): Promise<void> {
    const running = this.running;
    if (!running) return;
    const waitMs = this.options.operationTimeoutMs;
    await withTimeout(this.clock, waitMs, running, () => {
      return new HalError(
        'HAL_TIMEOUT',
        `${this.name} is still running an operation that timed out more than ${waitMs} ms ago`,
        { device: this.name },
      );
    });
  }

  /** Initialises (after a failure: resets and re-initialises) the device, then runs `op`. */
  private async once<T>(op: () => Promise<T>): Promise<T> {
    if (this.needsInit) {
      if (this.initialised) await this.device.reset();
      await this.device.init();
      this.needsInit = false;
      this.initialised = true;
    }
    return op();
  }

  private fail(e: unknown): void {
    this.counters.errors++;
    this.counters.lastError = messageOf(e);
    this.consecutiveFailures++;
    this.needsInit = true;
    if (this.consecutiveFailures >= this.options.failureThreshold) {
      this.counters.state = 'open';
      this.openedAt = this.clock.now();
    } else if (this.counters.state !== 'open') {
      this.counters.state = 'degraded';
    }
  }
}

function noop(): void {}

/** The arguments of an operation that takes none (shared: `apply` only reads them). */
const NO_ARGS: unknown[] = [];

/**
 * Starts an operation (`op` called on `self` with `args`, with no closure made for the call); a
 * synchronous throw or a plain value becomes its promise's outcome.
 */
function started<T>(
  op: (...args: unknown[]) => Promise<T>,
  self?: unknown,
  args: unknown[] = NO_ARGS,
): Promise<T> {
  try {
    const result = op.apply(self, args);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (e) {
    return Promise.reject(e);
  }
}
