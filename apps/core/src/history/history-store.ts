import { join } from 'node:path';
import { HISTORY_MAX_POINTS, HISTORY_MIN_STEP_MS, ProtocolError, type History } from '@growoff/protocol';
import type { Feature, SensorSnapshot } from '../core-types';
import type { EventBus } from '../event-bus';
import { raiseEvent } from '../state/events';
import {
  appendLines,
  listSegments,
  readSegment,
  removeSegment,
  SEGMENT_MS,
  segmentName,
  type MinuteRecord,
  type RawRecord,
  type SegmentFile,
} from './history-segments';

const MINUTE = 60_000;

export interface HistoryOptions {
  /** Minute means are kept this long (default 7 days). */
  retentionMs?: number;
  /** Raw readings are kept this long (default 6 hours); older buckets come from minute means. */
  rawRetentionMs?: number;
  /** The history's files never take more than this on disk (default 32 MiB); the oldest go first. */
  maxBytes?: number;
  /** Buffered lines are written this often (default 5 s). */
  flushMs?: number;
  /** Lines waiting for a stalled or full disk are capped here; the oldest are dropped (default 50,000). */
  maxPendingLines?: number;
  now?: () => number;
}

interface SensorSeries {
  raw: { ts: number; value: number }[];
  minutes: Map<number, { sum: number; count: number; persisted: boolean }>;
}

/**
 * The on-module history of good readings: raw for the last hours, minute means for the days before,
 * kept in memory for queries and appended to hourly/daily files so it survives a restart. File I/O
 * is asynchronous and never on the reading path; a stalled or full disk costs buffered lines, not
 * readings served.
 */
export class HistoryStore implements Feature {
  readonly name = 'history';
  private readonly series = new Map<string, SensorSeries>();
  private readonly pending = new Map<string, string[]>();
  private pendingCount = 0;
  private readonly tornTails = new Set<string>();
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private off?: () => void;
  private writeFailed = false;
  private lastPrune = 0;
  private readonly o: Required<HistoryOptions>;
  readonly dir: string;
  /** Lines dropped because the disk did not take them in time. */
  dropped = 0;

  constructor(
    dataDir: string,
    private readonly bus: EventBus,
    options: HistoryOptions = {},
  ) {
    this.dir = join(dataDir, 'history');
    this.o = {
      retentionMs: options.retentionMs ?? 7 * 86_400_000,
      rawRetentionMs: options.rawRetentionMs ?? 6 * 3_600_000,
      maxBytes: options.maxBytes ?? 32 * 1024 * 1024,
      flushMs: options.flushMs ?? 5000,
      maxPendingLines: options.maxPendingLines ?? 50_000,
      now: options.now ?? Date.now,
    };
  }

  async start(): Promise<void> {
    await this.load();
    this.off = this.bus.on('reading', (r) => this.record(r));
    this.timer = setInterval(() => void this.flush(), this.o.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.off?.();
    clearInterval(this.timer);
    // A flush under way wrote only what was queued when it began: the rest goes in one more.
    if (this.flushing) await this.flushing;
    await this.flush();
  }

  /** Takes a sample into memory and the write buffer; only good readings make history. */
  record(r: Pick<SensorSnapshot, 'id' | 'value' | 'quality' | 'ts'>): void {
    if (r.quality !== 'ok' || r.value === null || !Number.isFinite(r.value)) return;
    const s = this.seriesOf(r.id);
    s.raw.push({ ts: r.ts, value: r.value });
    this.addToMinute(s, r.ts, r.value, 1, false);
    this.queue(segmentName('raw', r.ts), JSON.stringify([r.ts, r.id, r.value] satisfies RawRecord));
  }

  /** Buckets of `step` ms from `from` (aligned down to a multiple of step) to `to`, each the mean of its good readings. */
  query(sensor: string, unit: string, q: { from?: number; to?: number; step?: number }): History {
    const to = q.to ?? this.o.now();
    const requestedFrom = q.from ?? to - 3_600_000;
    if (requestedFrom >= to)
      throw new ProtocolError('INVALID_MESSAGE', 'history: from must be before to', {
        from: requestedFrom,
        to,
      });
    const step = q.step ?? Math.max(HISTORY_MIN_STEP_MS, Math.ceil((to - requestedFrom) / 360 / 1000) * 1000);
    const from = Math.floor(requestedFrom / step) * step;
    const count = Math.ceil((to - from) / step);
    if (count > HISTORY_MAX_POINTS)
      throw new ProtocolError(
        'INVALID_MESSAGE',
        `history: ${count} points asked, at most ${HISTORY_MAX_POINTS} (widen step or narrow from..to)`,
        { from, to, step },
      );
    const s = this.series.get(sensor);
    const raw = new Float64Array(count * 2);
    const min = new Float64Array(count * 2);
    if (s) {
      for (const p of s.raw) add(raw, p.ts, p.value, 1);
      for (const [minute, m] of s.minutes) add(min, minute, m.sum, m.count);
    }
    // Raw where raw is still kept; minute means before that, and for whole-minute steps throughout.
    const rawFrom = this.o.now() - this.o.rawRetentionMs;
    const wholeMinutes = step % MINUTE === 0;
    const points: [number, number | null][] = [];
    for (let i = 0; i < count; i++) {
      const start = from + i * step;
      const src = !wholeMinutes && start >= rawFrom ? raw : min;
      const n = src[i * 2 + 1]!;
      points.push([start, n > 0 ? src[i * 2]! / n : null]);
    }
    return { sensor, unit, from, to, step, points };

    function add(into: Float64Array, ts: number, sum: number, n: number) {
      if (ts < from || ts >= to) return;
      const i = Math.floor((ts - from) / step);
      into[i * 2] = into[i * 2]! + sum;
      into[i * 2 + 1] = into[i * 2 + 1]! + n;
    }
  }

  /** Writes what is buffered, closes finished minutes, and prunes by age and size; one at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.writeOut().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private seriesOf(id: string): SensorSeries {
    let s = this.series.get(id);
    if (!s) {
      s = { raw: [], minutes: new Map() };
      this.series.set(id, s);
    }
    return s;
  }

  private addToMinute(s: SensorSeries, ts: number, sum: number, count: number, persisted: boolean): void {
    const minute = Math.floor(ts / MINUTE) * MINUTE;
    const m = s.minutes.get(minute);
    if (!m) s.minutes.set(minute, { sum, count, persisted });
    else if (!m.persisted) {
      m.sum += sum;
      m.count += count;
    }
  }

  private queue(file: string, line: string): void {
    let lines = this.pending.get(file);
    if (!lines) this.pending.set(file, (lines = []));
    lines.push(line);
    this.pendingCount++;
    this.trim();
  }

  /** Drops the oldest waiting lines beyond maxPendingLines (counted in `dropped`). */
  private trim(): void {
    while (this.pendingCount > this.o.maxPendingLines) {
      const oldest = [...this.pending.keys()].sort()[0]!;
      const list = this.pending.get(oldest)!;
      list.shift();
      this.pendingCount--;
      this.dropped++;
      if (list.length === 0) this.pending.delete(oldest);
    }
  }

  private async load(): Promise<void> {
    const now = this.o.now();
    let corrupt = 0;
    const damaged: string[] = [];
    const files = await listSegments(this.dir);
    // Minute means first, so raw lines of minutes already summed do not count twice.
    for (const kind of ['min', 'raw'] as const) {
      for (const f of files.filter((x) => x.kind === kind)) {
        if (f.start + SEGMENT_MS[kind] < now - this.keepMs(kind)) continue;
        const { records, corrupt: bad, tornTail } = await readSegment(this.dir, f);
        if (bad > 0) {
          corrupt += bad;
          damaged.push(f.name);
        }
        if (tornTail) this.tornTails.add(f.name);
        for (const r of records) {
          const s = this.seriesOf(r[1]);
          if (kind === 'min') {
            const [minute, , mean, count] = r as MinuteRecord;
            s.minutes.set(minute, { sum: mean * count, count, persisted: true });
          } else {
            const [ts, , value] = r as RawRecord;
            s.raw.push({ ts, value });
            this.addToMinute(s, ts, value, 1, false);
          }
        }
      }
    }
    for (const s of this.series.values()) s.raw.sort((a, b) => a.ts - b.ts);
    if (corrupt > 0) {
      raiseEvent(
        this.bus,
        'history.corrupt',
        'warning',
        `history: skipped ${corrupt} unreadable line(s) in ${damaged.join(', ')}`,
        { lines: corrupt, files: damaged },
      );
    }
  }

  private keepMs(kind: 'raw' | 'min'): number {
    return kind === 'raw' ? this.o.rawRetentionMs : this.o.retentionMs;
  }

  private async writeOut(): Promise<void> {
    const now = this.o.now();
    // A minute is final once the next one has fully passed (late, back-dated readings still land).
    const closedBefore = Math.floor(now / MINUTE) * MINUTE - MINUTE;
    for (const [id, s] of this.series) {
      for (const [minute, m] of s.minutes) {
        if (m.persisted || minute >= closedBefore) continue;
        m.persisted = true;
        const line: MinuteRecord = [minute, id, m.sum / m.count, m.count];
        this.queue(segmentName('min', minute), JSON.stringify(line));
      }
    }
    try {
      for (const file of [...this.pending.keys()].sort()) {
        // Taken out before the write: lines queued for the file while it goes wait for the next flush
        // (they used to join the written array and be deleted with it, never reaching the disk).
        const lines = this.pending.get(file)!;
        this.pending.delete(file);
        this.pendingCount -= lines.length;
        try {
          await appendLines(this.dir, file, lines, this.tornTails.has(file));
        } catch (e) {
          // Back in front of anything queued meanwhile, in order, and within maxPendingLines again.
          const later = this.pending.get(file) ?? [];
          this.pending.set(file, [...lines, ...later]);
          this.pendingCount += lines.length;
          this.trim();
          throw e;
        }
        this.tornTails.delete(file);
      }
      this.writeFailed = false;
      if (now - this.lastPrune >= MINUTE) {
        this.lastPrune = now;
        await this.prune(now);
      }
    } catch (e) {
      if (!this.writeFailed) {
        raiseEvent(
          this.bus,
          'history.write_failed',
          'warning',
          `history: cannot write (${(e as Error).message})`,
          {
            code: (e as NodeJS.ErrnoException).code,
            pendingLines: this.pendingCount,
          },
        );
      }
      this.writeFailed = true;
    }
  }

  /** Drops files (and memory) past their age, then the oldest files until the size cap holds. */
  async prune(now = this.o.now()): Promise<void> {
    const files = await listSegments(this.dir);
    const keep: SegmentFile[] = [];
    for (const f of files) {
      if (f.start + SEGMENT_MS[f.kind] <= now - this.keepMs(f.kind)) await removeSegment(this.dir, f.name);
      else keep.push(f);
    }
    let total = keep.reduce((n, f) => n + f.bytes, 0);
    let floor = now - this.o.retentionMs;
    while (total > this.o.maxBytes && keep.length > 1) {
      const oldest = keep.shift()!;
      await removeSegment(this.dir, oldest.name);
      total -= oldest.bytes;
      floor = Math.max(floor, oldest.start + SEGMENT_MS[oldest.kind]);
    }
    const rawFloor = Math.max(floor, now - this.o.rawRetentionMs);
    for (const s of this.series.values()) {
      const cut = s.raw.findIndex((p) => p.ts >= rawFloor);
      s.raw.splice(0, cut < 0 ? s.raw.length : cut);
      for (const minute of s.minutes.keys()) if (minute < floor) s.minutes.delete(minute);
    }
  }
}
