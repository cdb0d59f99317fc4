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

/** A transaction waiting for the bus, and the device it is for (undefined: the shared, untagged view). */
interface Waiting {
  device: string | undefined;
  start: () => void;
}

/**
 * Serialises a bus: one transaction at a time, each bounded by a timeout.
 * A timed-out transaction keeps the bus until it really ends, since an ioctl cannot be cancelled.
 *
 * A device marked urgent (`urgent`, e.g. an actuator while a command to it runs) goes ahead of the
 * others: its transactions wait only behind the one on the bus, not behind queued sensor reads. Two
 * guards keep that safe: a device's transactions are never reordered (one queued behind another of
 * the same device stays behind it), and after MAX_URGENT_STREAK urgent transactions in a row a waiting
 * ordinary one takes its turn, so reads are never starved.
 */
export class SupervisedBus {
  /** The bus as one untagged view (every transaction ordinary, in order). */
  readonly bus: I2cBus;
  /** A transaction holds the bus (it may have timed out for its caller, not ended yet). */
  private busy = false;
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
    const bus = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const inner = this.inner;
    const raw = inner as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const method of I2C_BUS_METHODS) {
      bus[method] = (...args: unknown[]) =>
        method === 'close'
          ? raw.close!.apply(inner, args)
          : this.transaction(device, () => raw[method]!.apply(inner, args));
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

  private transaction<T>(device: string | undefined, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.busy) {
        this.start(run, resolve, reject);
        return;
      }
      this.queueFor(device).push({ device, start: () => this.start(run, resolve, reject) });
    });
  }

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
   * Runs one transaction, bounded by the transaction timeout. The bus stays held until the
   * transaction really ends, even after its caller saw a timeout: an ioctl cannot be cancelled.
   */
  private start<T>(run: () => Promise<T>, resolve: (value: T) => void, reject: (e: unknown) => void): void {
    this.busy = true;
    this.counters.transactions++;
    let settled = false;
    const fail = (e: unknown) => {
      settled = true;
      this.counters.errors++;
      this.counters.lastError = messageOf(e);
      reject(e);
    };
    const op = started(run);
    const cancel = this.clock.timer(this.options.transactionTimeoutMs, () => {
      if (settled) return;
      this.counters.timeouts++;
      fail(
        new HalError(
          'HAL_TIMEOUT',
          `I2C transaction on ${this.counters.path} took longer than ${this.options.transactionTimeoutMs} ms`,
        ),
      );
    });
    op.then(
      (value) => {
        cancel();
        if (!settled) {
          settled = true;
          resolve(value);
        }
        this.release();
      },
      (e: unknown) => {
        cancel();
        if (!settled) fail(e);
        this.release();
      },
    );
  }

  private release(): void {
    const next = this.nextWaiting();
    if (next) next.start();
    else this.busy = false;
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
    const result = this.attempt(op);
    result.then(this.next, this.next);
    return result;
  }

  /** Starts the next waiting operation once one has ended (succeeded or failed). */
  private readonly next = (): void => {
    const start = this.waiting.shift();
    if (start) start();
    else this.busy = false;
  };

  private async attempt<T>(op: () => Promise<T>): Promise<T> {
    if (this.counters.state === 'open') {
      const waited = this.clock.now() - this.openedAt;
      if (waited < this.options.openMs) {
        throw new HalError(
          'HAL_CIRCUIT_OPEN',
          `device ${this.name} is out of service after repeated failures (${this.counters.lastError ?? 'unknown'}); next attempt in ${Math.ceil((this.options.openMs - waited) / 1000)} s`,
          { device: this.name },
        );
      }
    }
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) {
        this.counters.retries++;
        await this.clock.sleep(this.options.backoffMs * 2 ** (attempt - 1));
      }
      try {
        if (this.running) await this.untilIdle();
        const run = this.needsInit ? this.once(op) : started(op);
        const value = await withTimeout(this.clock, this.options.operationTimeoutMs, run, () => {
          this.holdUntilEnded(run);
          return new HalError(
            'HAL_TIMEOUT',
            `${this.name} did not answer within ${this.options.operationTimeoutMs} ms`,
            {
              device: this.name,
            },
          );
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

/** Starts an operation; a synchronous throw or a plain value becomes its promise's outcome. */
function started<T>(op: () => Promise<T>): Promise<T> {
  try {
    const result = op();
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (e) {
    return Promise.reject(e);
  }
}
