import { join } from 'node:path';
import { FileSink } from './delivery/file-sink';
import { HttpSink } from './delivery/http-sink';
import { Quarantine } from './delivery/quarantine';
import { Sender } from './delivery/sender';
import type { Sink } from './delivery/sink';
import { EventStamps } from './event-stamps';
import { eventLine, millisecondsOf, sensorLine, type EventInput, type MetricInput } from './line-protocol';
import { resolveOptions, type TelemetryOptions } from './options';
import { DiskQueue, type PointKind } from './queue/disk-queue';

export interface TelemetryStats {
  /** Points handed to metric()/event() over the queue's life (it survives restarts). */
  produced: number;
  delivered: number;
  /**
   * By reason: invalid, queue_full, disk_stalled, disk_error, closed, rejected (400),
   * too_large (413), corrupt.
   */
  dropped: Record<string, number>;
  /** Points lost after they were accepted: corrupt on disk or a failed write (corrupt + disk_error). */
  lost: number;
  /** produced = delivered + Σ dropped + queued, always. */
  queued: number;
  sink: string;
  /** The latest problem (a delivery failure or a refused point); kept after recovery. */
  lastError?: string;
  queuedBytes: number;
  /** True while the queue is above its high-water mark: producers should slow down. */
  backpressure: boolean;
}

export interface Telemetry {
  /** Queues a reading; false when it was dropped (counted in stats().dropped). */
  metric(r: MetricInput): boolean;
  event(e: EventInput): boolean;
  stats(): TelemetryStats;
  /**
   * Resolves when every point produced before the call is delivered or counted as dropped. It
   * waits through retries (cutting a backoff short), so race it with a timeout when the sink may be
   * down for long, or use close({ deadlineMs }).
   */
  flush(): Promise<void>;
  /**
   * Resolves when every point accepted before the call is in the queue's file: it then survives
   * the process being killed (a power cut only after the next fdatasync, see fsyncIntervalMs).
   */
  written(): Promise<void>;
  /** Resolves when the queue is below its high-water mark. */
  whenWritable(): Promise<void>;
  /** Flushes within the deadline (default 5 s); whatever is left stays on disk for the next start. */
  close(opts?: { deadlineMs?: number }): Promise<void>;
}

/** Data files beside the queue: the file sink's output and refused lines. */
export const FILE_SINK_NAME = 'telemetry.lp';
export const QUARANTINE_NAME = 'telemetry-quarantine.lp';

export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const o = resolveOptions(options);
  // The latest problem, from the queue's writes or from delivery; stats().lastError shows it.
  const errors: { latest?: string } = {};
  const queue = await DiskQueue.open({
    dir: o.queueDir,
    maxBytes: o.maxQueueBytes,
    highWaterRatio: o.highWaterRatio,
    readingsRatio: o.readingsRatio,
    onWriteError: (message) => {
      errors.latest = message;
    },
  });
  const sink: Sink = o.url
    ? new HttpSink({ ...o, url: o.url })
    : new FileSink(join(o.dataDir, FILE_SINK_NAME));
  return new TelemetryClient(o.module, o, queue, sink, errors);
}

class TelemetryClient implements Telemetry {
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly sender: Sender;
  private readonly syncTimer: NodeJS.Timeout;
  private writableWaiters: Array<() => void> = [];
  private readonly stamps = new EventStamps();

  constructor(
    private readonly module: string,
    private readonly o: ReturnType<typeof resolveOptions>,
    private readonly queue: DiskQueue,
    private readonly sink: Sink,
    private readonly errors: { latest?: string },
  ) {
    this.sender = new Sender(queue, sink, new Quarantine(join(o.dataDir, QUARANTINE_NAME)), {
      batchSize: o.batchSize,
      maxBatchBytes: 4 * 1024 * 1024,
      flushIntervalMs: o.flushIntervalMs,
      backoff: { baseMs: 250, maxMs: 30_000 },
      maxRetryAfterMs: 5 * 60_000,
      onAck: () => this.releaseWritable(),
      onError: (message) => {
        this.errors.latest = message;
      },
    });
    this.syncTimer = setInterval(() => this.sync(), o.fsyncIntervalMs);
    this.syncTimer.unref();
    this.sender.start();
  }

  private sync(): void {
    this.queue.sync().catch((err: unknown) => {
      this.errors.latest = `cannot sync the telemetry queue: ${(err as Error).message}`;
    });
  }

  metric(r: MetricInput): boolean {
    return this.put('reading', () => sensorLine(this.module, r));
  }

  event(e: EventInput): boolean {
    return this.put('event', () => {
      const ms = millisecondsOf(e.ts);
      return eventLine(this.module, { ...e, ts: ms }, this.stamps.next(e.type, e.severity, ms));
    });
  }

  private put(kind: PointKind, build: () => string): boolean {
    if (this.closed) {
      this.queue.refuse('closed');
      return false;
    }
    let line: string;
    try {
      line = build();
    } catch (err) {
      // InvalidPointError, or the client's Point refusing a value.
      this.queue.refuse('invalid');
      this.errors.latest = `point refused: ${(err as Error).message}`;
      return false;
    }
    const accepted = this.queue.append(line, kind);
    if (accepted !== true) {
      this.queue.refuse(accepted);
      this.errors.latest =
        accepted === 'queue_full'
          ? `telemetry queue full (${this.o.maxQueueBytes} bytes); ${kind} dropped`
          : `telemetry queue's disk is not keeping up; ${kind} dropped`;
      return false;
    }
    if (this.queue.queued >= this.o.batchSize || this.queue.aboveHighWater) this.sender.nudge();
    return true;
  }

  stats(): TelemetryStats {
    const c = this.queue.counters();
    const stats: TelemetryStats = {
      produced: c.produced,
      delivered: c.delivered,
      dropped: c.dropped,
      lost: (c.dropped.corrupt ?? 0) + (c.dropped.disk_error ?? 0),
      queued: c.queued,
      sink: this.sink.describe(),
      queuedBytes: c.queuedBytes,
      backpressure: this.queue.aboveHighWater,
    };
    if (this.errors.latest !== undefined) stats.lastError = this.errors.latest;
    return stats;
  }

  flush(): Promise<void> {
    if (this.closed) return this.closing ?? Promise.resolve();
    return this.sender.flush();
  }

  written(): Promise<void> {
    return this.queue.written();
  }

  whenWritable(): Promise<void> {
    if (!this.queue.aboveHighWater || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  private releaseWritable(): void {
    if (this.queue.aboveHighWater) return;
    for (const resolve of this.writableWaiters.splice(0)) resolve();
  }

  close(opts?: { deadlineMs?: number }): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        await this.sender.stop(opts?.deadlineMs ?? 5000);
        clearInterval(this.syncTimer);
        for (const resolve of this.writableWaiters.splice(0)) resolve();
        await this.queue.close();
      })();
    }
    return this.closing;
  }
}
