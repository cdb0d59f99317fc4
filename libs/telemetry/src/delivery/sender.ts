import { TelemetryError } from '../errors';
import type { DiskQueue, QueueBatch, QueuePosition } from '../queue/disk-queue';
import type { Lines } from '../queue/lines';
import { backoffDelay, type BackoffOptions } from './backoff';
import type { Quarantine } from './quarantine';
import type { SendResult, Sink } from './sink';

export interface SenderOptions {
  batchSize: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  backoff: BackoffOptions;
  /** A Retry-After longer than this is cut to it, so a bad header cannot park delivery for days. */
  maxRetryAfterMs: number;
  onAck: () => void;
  /** The latest delivery problem (stats().lastError keeps the latest one, also after recovery). */
  onError: (message: string) => void;
}

interface Waker {
  wake: () => void;
  interruptible: boolean;
}

interface FlushWaiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Moves batches from the disk queue to the sink, one request at a time so order is kept.
 * A batch is acknowledged on the queue only when every line in it was delivered or quarantined.
 */
export class Sender {
  private readonly wakers = new Set<Waker>();
  private readonly waiters: FlushWaiter[] = [];
  private readonly abort = new AbortController();
  private attempt = 0;
  private flushRequested = false;
  private draining = false;
  private aborted = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** The next full batch, read while the one before it is in flight. */
  private ahead: { from: QueuePosition; batch: Promise<QueueBatch> } | undefined;

  constructor(
    private readonly queue: DiskQueue,
    private readonly sink: Sink,
    private readonly quarantine: Quarantine,
    private readonly o: SenderOptions,
  ) {}

  start(): void {
    this.loopDone = this.loop();
  }

  /** Ends a flush-interval wait early (a full batch, high water, a flush request). */
  nudge(): void {
    for (const waker of [...this.wakers]) if (waker.interruptible) waker.wake();
  }

  /** Resolves when every point queued before the call is delivered or counted as dropped. */
  flush(): Promise<void> {
    const seq = this.queue.newestSeq;
    if (this.queue.ackedSeq >= seq) return Promise.resolve();
    if (this.draining) {
      return Promise.reject(
        new TelemetryError('TELEMETRY_CLOSED', 'telemetry is closing; flush is part of close'),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.flushRequested = true;
      this.attempt = 0;
      this.nudge();
    });
  }

  /** Delivers what it can within `deadlineMs`, then abandons the request in flight (it stays queued). */
  async stop(deadlineMs: number): Promise<void> {
    this.draining = true;
    this.nudge();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([this.loopDone, deadline]);
    clearTimeout(timer);
    this.aborted = true;
    this.abort.abort();
    for (const waker of [...this.wakers]) waker.wake();
    await this.loopDone;
    const left = this.queue.queued;
    for (const waiter of this.waiters.splice(0)) {
      if (this.queue.ackedSeq >= waiter.seq) waiter.resolve();
      else
        waiter.reject(
          new TelemetryError(
            'TELEMETRY_CLOSED',
            `telemetry closed before delivery; ${left} points stay queued on disk`,
          ),
        );
    }
  }

  private sleep(ms: number, interruptible: boolean): Promise<void> {
    if (this.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const waker: Waker = {
        interruptible,
        wake: () => {
          clearTimeout(timer);
          this.wakers.delete(waker);
          resolve();
        },
      };
      const timer = setTimeout(waker.wake, ms);
      this.wakers.add(waker);
    });
  }

  private settleWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.waiters[i] as FlushWaiter;
      if (this.queue.ackedSeq >= waiter.seq) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
    if (this.waiters.length === 0) this.flushRequested = false;
  }

  private async loop(): Promise<void> {
    while (!this.aborted) {
      this.settleWaiters();
      if (this.queue.queued === 0) {
        if (this.draining) return;
        await this.sleep(this.o.flushIntervalMs, true);
        continue;
      }
      const urgent =
        this.draining ||
        this.flushRequested ||
        this.queue.queued >= this.o.batchSize ||
        this.queue.aboveHighWater;
      if (!urgent) {
        await this.sleep(this.o.flushIntervalMs, true);
        if (this.aborted) return;
      }
      let batch: QueueBatch;
      try {
        batch = (await this.readAhead()) ?? (await this.queue.read(this.o.batchSize, this.o.maxBatchBytes));
      } catch (err) {
        this.o.onError(`cannot read the telemetry queue: ${(err as Error).message}`);
        await this.sleep(backoffDelay(this.attempt++, this.o.backoff), false);
        continue;
      }
      this.readNext(batch);
      const outcome = await this.deliver(batch);
      if (!outcome) {
        this.ahead = undefined;
        return;
      }
      try {
        await this.queue.ack(batch.end, outcome);
      } catch (err) {
        this.o.onError(`cannot record delivery in the telemetry queue: ${(err as Error).message}`);
      }
      this.o.onAck();
    }
  }

  /**
   * While `batch` is in flight, reads the one after it when a whole batch already waits there: the
   * same lines a read after the acknowledgement would return, ready when it comes (the requests
   * themselves stay one at a time, in order).
   */
  private readNext(batch: QueueBatch): void {
    this.ahead = undefined;
    const from = batch.end;
    if (batch.lines.count === 0 || this.queue.newestSeq - from.nextSeq + 1 < this.o.batchSize) return;
    const next = this.queue.read(this.o.batchSize, this.o.maxBatchBytes, from);
    next.then(
      (ahead) => {
        if (this.ahead?.batch === next && this.sink.prepare && ahead.lines.count >= this.o.batchSize)
          this.sink.prepare(ahead.lines);
      },
      () => undefined, // a failed read ahead is read again, and reported, by the loop
    );
    this.ahead = { from, batch: next };
  }

  /** The batch read ahead, if it starts at the read position and is whole; otherwise undefined. */
  private async readAhead(): Promise<QueueBatch | undefined> {
    const ahead = this.ahead;
    this.ahead = undefined;
    if (!ahead) return undefined;
    const at = this.queue.readPosition;
    if (
      ahead.from.segment !== at.segment ||
      ahead.from.offset !== at.offset ||
      ahead.from.nextSeq !== at.nextSeq
    )
      return undefined;
    const batch = await ahead.batch.catch(() => undefined);
    return batch && batch.lines.count >= this.o.batchSize ? batch : undefined;
  }

  /** Sends one batch until every line is delivered or quarantined; undefined when aborted. */
  private async deliver(
    batch: QueueBatch,
  ): Promise<{ delivered: number; dropped: Record<string, number> } | undefined> {
    const lines: Lines = batch.lines;
    const dropped: Record<string, number> = {};
    if (batch.corrupt > 0) dropped.corrupt = batch.corrupt;
    let delivered = 0;
    // Pending ranges of `lines`, in order; a refused range is replaced by its two halves.
    const ranges: Array<[number, number]> = lines.count > 0 ? [[0, lines.count]] : [];
    while (ranges.length > 0) {
      if (this.aborted) return undefined;
      const [from, to] = ranges[0] as [number, number];
      let result: SendResult;
      try {
        // The whole batch goes as the very object a body may have been prepared for.
        const part = from === 0 && to === lines.count ? lines : lines.slice(from, to);
        result = await this.sink.send(part, this.abort.signal);
      } catch (err) {
        result = { kind: 'retry', message: `sending failed: ${(err as Error).message}` };
      }
      if (result.kind === 'ok') {
        delivered += to - from;
        ranges.shift();
        this.attempt = 0;
        continue;
      }
      this.o.onError(result.message);
      // While the sink is away, only the batch being retried stays in memory.
      this.ahead = undefined;
      if (result.kind === 'retry') {
        if (this.aborted) return undefined;
        const wait =
          result.retryAfterMs !== undefined
            ? Math.min(result.retryAfterMs, this.o.maxRetryAfterMs)
            : backoffDelay(this.attempt, this.o.backoff);
        this.attempt += 1;
        // A flush may cut a backoff short, never a server's Retry-After.
        await this.sleep(wait, result.retryAfterMs === undefined);
        continue;
      }
      if (to - from === 1) {
        const reason = result.kind === 'reject' ? 'rejected' : 'too_large';
        await this.quarantine.put(lines.line(from), reason, result.message);
        dropped[reason] = (dropped[reason] ?? 0) + 1;
        ranges.shift();
        continue;
      }
      const middle = from + Math.ceil((to - from) / 2);
      ranges.splice(0, 1, [from, middle], [middle, to]);
    }
    return { delivered, dropped };
  }
}
