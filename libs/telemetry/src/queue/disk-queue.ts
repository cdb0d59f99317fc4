import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { TelemetryError } from '../errors';
import { MAX_RECORD_PAYLOAD, decodeRecord, encodeRecord } from './record';

export interface DiskQueueOptions {
  dir: string;
  maxBytes: number;
  /** Segment files are sealed at this size; fully delivered sealed segments are deleted. */
  segmentBytes?: number;
  highWaterRatio?: number;
  /** Told when a write fails; the lost points are already counted as dropped (disk_error). */
  onWriteError?: (message: string) => void;
}

export interface QueueRecord {
  seq: number;
  line: string;
}

/** Where reading resumes: a segment (by its first sequence number), a byte offset, the next seq. */
export interface QueuePosition {
  segment: number;
  offset: number;
  nextSeq: number;
}

export interface QueueBatch {
  records: QueueRecord[];
  /** Records lost to corruption between the start and `end`; dropped as `corrupt` on ack. */
  corrupt: number;
  end: QueuePosition;
}

/** What became of an acknowledged batch: counted once, persisted with the read position. */
export interface BatchOutcome {
  delivered: number;
  dropped: Record<string, number>;
}

export interface QueueCounters {
  produced: number;
  delivered: number;
  dropped: Record<string, number>;
  queued: number;
  queuedBytes: number;
}

interface PersistedState {
  version: 1;
  ackedSeq: number;
  segment: number;
  offset: number;
  delivered: number;
  dropped: Record<string, number>;
  /** Points dropped before they reached the queue (they have no sequence number). */
  refused: number;
}

interface Segment {
  firstSeq: number;
  size: number;
}

const STATE_FILE = 'state.json';
const SEGMENT_SUFFIX = '.seg';
const READ_CHUNK = 2 * MAX_RECORD_PAYLOAD;
const PENDING_LIMIT = 256 * 1024;

const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, '0')}${SEGMENT_SUFFIX}`;

/**
 * A bounded, append-only queue of line-protocol lines in segment files.
 *
 * Durability (the fsync policy): lines appended in one synchronous run of the caller are written
 * to the active segment with a single write(2) in a microtask right after it (or at once every
 * 256 KiB), so they survive the process being killed as soon as the caller's code yields. The
 * active segment is fdatasync'd by `sync()` — the owner calls it on a timer (default every
 * second), and it happens on segment rotation and on close — so a power cut loses at most that
 * interval. The read position and counters are replaced atomically (write + rename) after every
 * acknowledged batch; if they are older than the data, the batch after them is delivered again
 * (at-least-once; InfluxDB stores a re-sent point with the same series and timestamp once).
 * Nothing but the unwritten tail of the current run is held in memory.
 */
export class DiskQueue {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly highWaterBytes: number;
  private segments: Segment[] = [];
  private fd: number | undefined;
  private dirty = false;
  private lastSeq = 0;
  private state: PersistedState;
  private totalBytes = 0;
  private readonly readBuf = Buffer.allocUnsafe(READ_CHUNK);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private writeScheduled = false;
  private readonly onWriteError: (message: string) => void;

  private constructor(options: DiskQueueOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = Math.max(
      64 * 1024,
      Math.min(options.segmentBytes ?? 8 * 1024 * 1024, Math.floor(options.maxBytes / 4)),
    );
    this.highWaterBytes = Math.floor(options.maxBytes * (options.highWaterRatio ?? 0.8));
    this.onWriteError = options.onWriteError ?? (() => undefined);
    this.state = { version: 1, ackedSeq: 0, segment: 0, offset: 0, delivered: 0, dropped: {}, refused: 0 };
  }

  /** Opens (or creates) the queue in `dir`, recovering from a crash: a torn tail is cut off. */
  static open(options: DiskQueueOptions): DiskQueue {
    const queue = new DiskQueue(options);
    try {
      queue.recover();
    } catch (err) {
      if (err instanceof TelemetryError) throw err;
      throw new TelemetryError(
        'TELEMETRY_QUEUE_IO',
        `cannot open the telemetry queue in ${options.dir}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return queue;
  }

  private recover(): void {
    mkdirSync(this.dir, { recursive: true });
    const stored = this.readState();
    this.segments = readdirSync(this.dir)
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .map((name) => ({ firstSeq: Number(name.slice(0, -SEGMENT_SUFFIX.length)), size: 0 }))
      .filter((s) => Number.isSafeInteger(s.firstSeq) && s.firstSeq > 0)
      .sort((a, b) => a.firstSeq - b.firstSeq);
    for (const segment of this.segments) {
      const fd = openSync(this.pathOf(segment), 'r');
      segment.size = fstatSync(fd).size;
      closeSync(fd);
    }
    const tail = this.segments.at(-1);
    if (stored) this.state = stored;
    if (tail) {
      this.lastSeq = this.scanTail(tail);
    } else {
      this.lastSeq = this.state.ackedSeq;
    }
    if (!stored && this.segments[0]) {
      // Without a state file nothing is known to be delivered beyond what is already gone.
      const ackedSeq = this.segments[0].firstSeq - 1;
      this.state = { ...this.state, ackedSeq, delivered: ackedSeq };
    }
    if (this.lastSeq < this.state.ackedSeq) {
      // The data behind the acknowledged position was lost (power cut before its sync): it was delivered.
      for (const segment of this.segments) unlinkSync(this.pathOf(segment));
      this.segments = [];
      this.lastSeq = this.state.ackedSeq;
    }
    if (!this.segments.some((s) => s.firstSeq === this.state.segment)) {
      this.state.segment = this.segments[0]?.firstSeq ?? this.lastSeq + 1;
      this.state.offset = 0;
    }
    this.dropPassedSegments();
    this.totalBytes = this.segments.reduce((sum, s) => sum + s.size, 0);
    const active = this.segments.at(-1);
    if (active && active.size < this.segmentBytes) {
      this.fd = openSync(this.pathOf(active), 'a');
    } else {
      this.startSegment();
    }
    this.writeState();
  }

  private readState(): PersistedState | undefined {
    try {
      const parsed = JSON.parse(readFileSync(join(this.dir, STATE_FILE), 'utf8')) as PersistedState;
      if (parsed.version !== 1 || !Number.isSafeInteger(parsed.ackedSeq)) return undefined;
      return { ...parsed, dropped: { ...parsed.dropped } };
    } catch {
      return undefined;
    }
  }

  /** Validates the tail segment record by record; cuts it at the first torn or corrupt record. */
  private scanTail(tail: Segment): number {
    const fd = openSync(this.pathOf(tail), 'r+');
    try {
      let offset = 0;
      let expected = tail.firstSeq;
      for (;;) {
        const available = readSync(fd, this.readBuf, 0, READ_CHUNK, offset);
        let p = 0;
        let stop = false;
        while (p < available) {
          const decoded = decodeRecord(this.readBuf, p, available);
          if (decoded.kind === 'incomplete' && available === READ_CHUNK) break;
          if (decoded.kind !== 'record' || decoded.seq !== expected) {
            stop = true;
            break;
          }
          p += decoded.size;
          expected += 1;
        }
        offset += p;
        if (stop || available < READ_CHUNK || p === 0) break;
      }
      if (offset < tail.size) {
        ftruncateSync(fd, offset);
        tail.size = offset;
      }
      return expected - 1;
    } finally {
      closeSync(fd);
    }
  }

  private pathOf(segment: Segment): string {
    return join(this.dir, segmentName(segment.firstSeq));
  }

  private startSegment(): void {
    if (this.fd !== undefined) {
      fdatasyncSync(this.fd);
      closeSync(this.fd);
    }
    const segment = { firstSeq: this.lastSeq + 1, size: 0 };
    const existing = this.segments.at(-1);
    if (existing && existing.size === 0) {
      // An empty tail is reused rather than stacked behind a new one.
      unlinkSync(this.pathOf(existing));
      this.segments.pop();
      if (this.state.segment === existing.firstSeq) this.state.segment = segment.firstSeq;
    }
    this.segments.push(segment);
    this.fd = openSync(this.pathOf(segment), 'a');
  }

  /** Deletes sealed segments that the read position has passed. */
  private dropPassedSegments(): void {
    while (this.segments.length > 1 && this.segments[0] && this.segments[0].firstSeq < this.state.segment) {
      const gone = this.segments.shift() as Segment;
      this.totalBytes -= gone.size;
      unlinkSync(this.pathOf(gone));
    }
  }

  get queuedBytes(): number {
    return this.totalBytes - this.state.offset;
  }

  get queued(): number {
    return this.lastSeq - this.state.ackedSeq;
  }

  get aboveHighWater(): boolean {
    return this.queuedBytes >= this.highWaterBytes;
  }

  /** The sequence number of the newest point; `flush` waits until this one is acknowledged. */
  get newestSeq(): number {
    return this.lastSeq;
  }

  get ackedSeq(): number {
    return this.state.ackedSeq;
  }

  /**
   * Appends one line. Returns false when the queue is at its bound (the caller counts the drop).
   * Lines appended in one synchronous run are written together with one write(2) in a microtask
   * (or sooner, every PENDING_LIMIT bytes): that write, not each call, is what survives a kill.
   */
  append(line: string): boolean {
    const record = encodeRecord(this.lastSeq + 1, line);
    if (this.queuedBytes + record.length > this.maxBytes) return false;
    let active = this.segments.at(-1) as Segment;
    if (active.size > 0 && active.size + record.length > this.segmentBytes) {
      this.writePending();
      this.startSegment();
      active = this.segments.at(-1) as Segment;
    }
    this.pending.push(record);
    this.pendingBytes += record.length;
    active.size += record.length;
    this.totalBytes += record.length;
    this.lastSeq += 1;
    if (this.pendingBytes >= PENDING_LIMIT) this.writePending();
    else if (!this.writeScheduled) {
      this.writeScheduled = true;
      queueMicrotask(() => this.writePending());
    }
    return true;
  }

  /**
   * Writes the lines appended since the last write. When the disk refuses (ENOSPC), the partial
   * write is cut off and those lines are counted as dropped (`disk_error`) so the books still add up.
   */
  private writePending(): void {
    this.writeScheduled = false;
    if (this.pending.length === 0 || this.fd === undefined) return;
    const data =
      this.pending.length === 1
        ? (this.pending[0] as Buffer)
        : Buffer.concat(this.pending, this.pendingBytes);
    const lost = this.pending.length;
    const active = this.segments.at(-1) as Segment;
    this.pending = [];
    const bytes = this.pendingBytes;
    this.pendingBytes = 0;
    try {
      let written = 0;
      while (written < data.length) written += writeSync(this.fd, data, written);
      this.dirty = true;
    } catch (err) {
      active.size -= bytes;
      this.totalBytes -= bytes;
      this.lastSeq -= lost;
      this.state.refused += lost;
      this.state.dropped.disk_error = (this.state.dropped.disk_error ?? 0) + lost;
      try {
        ftruncateSync(this.fd, active.size);
      } catch {
        // the scan on the next start cuts it instead
      }
      this.onWriteError(
        `cannot write to the telemetry queue, ${lost} points dropped: ${(err as Error).message}`,
      );
    }
  }

  /** Counts a point dropped before it reached the queue; persisted with the next state write. */
  refuse(reason: string): void {
    this.state.refused += 1;
    this.state.dropped[reason] = (this.state.dropped[reason] ?? 0) + 1;
  }

  /** Reads up to `maxRecords` lines (and about `maxBytes`) after the acknowledged position. */
  read(maxRecords: number, maxBytes: number): QueueBatch {
    this.writePending();
    const records: QueueRecord[] = [];
    let corrupt = 0;
    let bytes = 0;
    let index = this.segments.findIndex((s) => s.firstSeq === this.state.segment);
    let offset = this.state.offset;
    let expected = this.state.ackedSeq + 1;
    if (index < 0)
      return { records, corrupt, end: { segment: this.state.segment, offset, nextSeq: expected } };
    while (records.length < maxRecords && bytes < maxBytes) {
      const segment = this.segments[index] as Segment;
      const next = this.segments[index + 1];
      if (offset >= segment.size) {
        if (!next) break;
        if (next.firstSeq > expected) {
          corrupt += next.firstSeq - expected;
          expected = next.firstSeq;
        }
        index += 1;
        offset = 0;
        continue;
      }
      const length = Math.min(READ_CHUNK, segment.size - offset);
      const fd = openSync(this.pathOf(segment), 'r');
      let available: number;
      try {
        available = readSync(fd, this.readBuf, 0, length, offset);
      } finally {
        closeSync(fd);
      }
      let p = 0;
      let broken = false;
      while (p < available && records.length < maxRecords && bytes < maxBytes) {
        const decoded = decodeRecord(this.readBuf, p, available);
        if (decoded.kind === 'incomplete') {
          if (p === 0) broken = true;
          break;
        }
        if (decoded.kind === 'corrupt') {
          broken = true;
          break;
        }
        p += decoded.size;
        if (decoded.seq < expected) continue;
        if (decoded.seq > expected) corrupt += decoded.seq - expected;
        records.push({ seq: decoded.seq, line: decoded.line });
        bytes += decoded.size;
        expected = decoded.seq + 1;
      }
      offset += p;
      if (broken) {
        // The rest of this segment cannot be trusted: skip to the next one, counting what it held.
        const lastInSegment = next ? next.firstSeq - 1 : this.lastSeq;
        corrupt += Math.max(0, lastInSegment - expected + 1);
        expected = lastInSegment + 1;
        offset = segment.size;
      }
    }
    const segment = this.segments[index] as Segment;
    return { records, corrupt, end: { segment: segment.firstSeq, offset, nextSeq: expected } };
  }

  /** Moves the read position to `end`, counting the outcome; passed segments are deleted. */
  ack(end: QueuePosition, outcome: BatchOutcome): void {
    this.state.ackedSeq = end.nextSeq - 1;
    this.state.delivered += outcome.delivered;
    for (const [reason, count] of Object.entries(outcome.dropped)) {
      if (count > 0) this.state.dropped[reason] = (this.state.dropped[reason] ?? 0) + count;
    }
    if (end.segment !== this.state.segment) {
      this.state.segment = end.segment;
      this.state.offset = end.offset;
      this.dropPassedSegments();
    } else {
      this.state.offset = end.offset;
    }
    this.writeState();
  }

  counters(): QueueCounters {
    return {
      produced: this.lastSeq + this.state.refused,
      delivered: this.state.delivered,
      dropped: { ...this.state.dropped },
      queued: this.queued,
      queuedBytes: this.queuedBytes,
    };
  }

  private writeState(): void {
    const path = join(this.dir, STATE_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(this.state));
    renameSync(`${path}.tmp`, path);
  }

  /** fdatasync of the active segment when it changed; see the class comment for the policy. */
  sync(): void {
    this.writePending();
    if (this.fd === undefined || !this.dirty) return;
    fdatasyncSync(this.fd);
    this.dirty = false;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.sync();
    this.writeState();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
