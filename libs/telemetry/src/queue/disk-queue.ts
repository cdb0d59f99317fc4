import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  stat,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { TelemetryError } from '../errors';
import { Lines, LinesBuilder } from './lines';
import { MAX_RECORD_PAYLOAD, RECORD_HEADER_BYTES, encodeRecord, recordSeq, recordSize } from './record';

/** Which kind of point a line is: readings give way to events when the queue fills (see README). */
export type PointKind = 'reading' | 'event';

export interface DiskQueueOptions {
  dir: string;
  maxBytes: number;
  /** Segment files are sealed at this size; fully delivered sealed segments are deleted. */
  segmentBytes?: number;
  highWaterRatio?: number;
  /** Fraction of maxBytes readings may fill; the rest is kept for events. Default 0.9. */
  readingsRatio?: number;
  /** Told when a write fails; the lost points are already counted as dropped (disk_error). */
  onWriteError?: (message: string) => void;
}

/** Where reading resumes: a segment (by its first sequence number), a byte offset, the next seq. */
export interface QueuePosition {
  segment: number;
  offset: number;
  nextSeq: number;
}

export interface QueueBatch {
  /** The batch's lines, in sequence order. */
  lines: Lines;
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
  /** Sequence ranges [from, to] whose write failed: already counted as disk_error, not corrupt. */
  lost?: Array<[number, number]>;
}

interface Segment {
  firstSeq: number;
  /** Bytes appended, written or not. */
  size: number;
  /** Bytes in the file; reading stops here. */
  written: number;
}

interface PendingRecord {
  segment: Segment;
  seq: number;
  buf: Buffer;
}

const STATE_FILE = 'state.json';
const SEGMENT_SUFFIX = '.seg';
const READ_CHUNK = 2 * MAX_RECORD_PAYLOAD;
/** Appended lines waiting for the disk are held in memory up to this; beyond, points are refused. */
const PENDING_LIMIT = 8 * 1024 * 1024;

const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(16, '0')}${SEGMENT_SUFFIX}`;

/**
 * A bounded, append-only queue of line-protocol lines in segment files.
 *
 * No file I/O runs on the caller's thread: `append` only encodes the line into memory, and every
 * read, write, fdatasync and state update goes through `fs/promises` (libuv's thread pool), so a
 * stalled SD card delays telemetry, never the timers of the HAL and the control loops. Lines
 * appended in one synchronous run are written together with one write in a microtask right after
 * it. While the disk does not keep up, at most PENDING_LIMIT bytes wait in memory; beyond that
 * points are refused as `disk_stalled`.
 *
 * Durability: a written line survives the process being killed; the active segment is
 * fdatasync'd by `sync()` — the owner calls it every `fsyncIntervalMs`, and it happens on segment
 * rotation and on close — so a power cut loses at most that interval. The read position and
 * counters are replaced atomically (write + rename) after every acknowledged batch; if they are
 * older than the data, the batch after them is delivered again (at-least-once).
 */
export class DiskQueue {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly readingsBytes: number;
  private readonly segmentBytes: number;
  private readonly highWaterBytes: number;
  private segments: Segment[] = [];
  /** The file the writer appends to, and its segment. */
  private handle: FileHandle | undefined;
  private handleSegment: Segment | undefined;
  private dirty = false;
  private lastSeq = 0;
  private state: PersistedState;
  private totalBytes = 0;
  private readonly readBuf = Buffer.allocUnsafe(READ_CHUNK);
  private pending: PendingRecord[] = [];
  /** Bytes appended and not yet written, including the write in progress. */
  private pendingBytes = 0;
  private writeScheduled = false;
  /** Every operation on the files runs in this chain, one at a time. */
  private io: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onWriteError: (message: string) => void;

  private constructor(options: DiskQueueOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.readingsBytes = Math.floor(options.maxBytes * (options.readingsRatio ?? 0.9));
    this.segmentBytes = Math.max(
      64 * 1024,
      Math.min(options.segmentBytes ?? 8 * 1024 * 1024, Math.floor(options.maxBytes / 4)),
    );
    this.highWaterBytes = Math.floor(options.maxBytes * (options.highWaterRatio ?? 0.8));
    this.onWriteError = options.onWriteError ?? (() => undefined);
    this.state = {
      version: 1,
      ackedSeq: 0,
      segment: 0,
      offset: 0,
      delivered: 0,
      dropped: {},
      refused: 0,
      lost: [],
    };
  }

  /** Opens (or creates) the queue in `dir`, recovering from a crash: a torn tail is cut off. */
  static async open(options: DiskQueueOptions): Promise<DiskQueue> {
    const queue = new DiskQueue(options);
    try {
      await queue.recover();
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

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const stored = await this.readState();
    this.segments = (await readdir(this.dir))
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .map((name) => ({ firstSeq: Number(name.slice(0, -SEGMENT_SUFFIX.length)), size: 0, written: 0 }))
      .filter((s) => Number.isSafeInteger(s.firstSeq) && s.firstSeq > 0)
      .sort((a, b) => a.firstSeq - b.firstSeq);
    for (const segment of this.segments) {
      segment.size = (await stat(this.pathOf(segment))).size;
      segment.written = segment.size;
    }
    const tail = this.segments.at(-1);
    if (stored) this.state = stored;
    if (tail) {
      this.lastSeq = await this.scanTail(tail);
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
      for (const segment of this.segments) await unlink(this.pathOf(segment));
      this.segments = [];
      this.lastSeq = this.state.ackedSeq;
    }
    if (!this.segments.some((s) => s.firstSeq === this.state.segment)) {
      this.state.segment = this.segments[0]?.firstSeq ?? this.lastSeq + 1;
      this.state.offset = 0;
    }
    await this.dropPassedSegments();
    this.totalBytes = this.segments.reduce((sum, s) => sum + s.size, 0);
    const active = this.segments.at(-1);
    if (!active || active.size >= this.segmentBytes) {
      this.segments.push({ firstSeq: this.lastSeq + 1, size: 0, written: 0 });
    }
    await this.writeState();
  }

  private async readState(): Promise<PersistedState | undefined> {
    try {
      const parsed = JSON.parse(await readFile(join(this.dir, STATE_FILE), 'utf8')) as PersistedState;
      if (parsed.version !== 1 || !Number.isSafeInteger(parsed.ackedSeq)) return undefined;
      return { ...parsed, dropped: { ...parsed.dropped }, lost: parsed.lost ?? [] };
    } catch {
      return undefined;
    }
  }

  /**
   * Validates the tail segment record by record. A damaged record followed by valid ones is
   * passed over (its points are counted as corrupt when read); a torn end — nothing valid after
   * the damage — is cut off. Returns the sequence number of the last valid record.
   */
  private async scanTail(tail: Segment): Promise<number> {
    const handle = await open(this.pathOf(tail), 'r+');
    try {
      let offset = 0;
      let last = tail.firstSeq - 1;
      let validEnd = 0;
      while (offset < tail.size) {
        const { bytesRead: available } = await handle.read(this.readBuf, 0, READ_CHUNK, offset);
        let p = 0;
        let damaged = false;
        while (p < available) {
          const size = recordSize(this.readBuf, p, available);
          if (size === 0 && available === READ_CHUNK && p > 0) break;
          const seq = size > 0 ? recordSeq(this.readBuf, p) : last;
          if (seq <= last) {
            damaged = true;
            break;
          }
          last = seq;
          p += size;
          validEnd = offset + p;
        }
        if (!damaged) {
          if (p === 0) break;
          offset += p;
          continue;
        }
        const next = await this.resync(handle, tail.size, offset + p + 1, last + 1);
        if (next === undefined) break;
        offset = next;
      }
      if (validEnd < tail.size) {
        await handle.truncate(validEnd);
        tail.size = validEnd;
        tail.written = validEnd;
      }
      return last;
    } finally {
      await handle.close();
    }
  }

  /**
   * The offset of the first whole, checksummed record at or after `from` whose sequence number is
   * at least `minSeq`, or undefined when none follows before `size`. Used to read on past damage.
   */
  private async resync(
    handle: FileHandle,
    size: number,
    from: number,
    minSeq: number,
    maxSeq = minSeq + 0x1_0000_0000,
  ): Promise<number | undefined> {
    let base = from;
    while (base + RECORD_HEADER_BYTES <= size) {
      const { bytesRead } = await handle.read(this.readBuf, 0, Math.min(READ_CHUNK, size - base), base);
      for (let p = 0; p + RECORD_HEADER_BYTES <= bytesRead; p += 1) {
        const size = recordSize(this.readBuf, p, bytesRead);
        if (size > 0) {
          const seq = recordSeq(this.readBuf, p);
          if (seq >= minSeq && seq <= maxSeq) return base + p;
        }
        // A record cut by the buffer's end is looked at again from the next chunk.
        if (size === 0 && bytesRead === READ_CHUNK && p > READ_CHUNK / 2) break;
      }
      if (bytesRead < READ_CHUNK) return undefined;
      base += READ_CHUNK / 2;
    }
    return undefined;
  }

  private pathOf(segment: Segment): string {
    return join(this.dir, segmentName(segment.firstSeq));
  }

  /** Deletes sealed segments that the read position has passed. */
  private async dropPassedSegments(): Promise<void> {
    while (this.segments.length > 1 && this.segments[0] && this.segments[0].firstSeq < this.state.segment) {
      const gone = this.segments.shift() as Segment;
      this.totalBytes -= gone.size;
      if (this.handleSegment === gone) await this.closeHandle();
      await unlink(this.pathOf(gone)).catch(() => undefined);
    }
  }

  get queuedBytes(): number {
    return this.totalBytes - this.state.offset;
  }

  get queued(): number {
    return this.lastSeq - this.state.ackedSeq - this.lostAhead();
  }

  /** Sequence numbers after the read position whose write failed (counted as disk_error already). */
  private lostAhead(): number {
    let count = 0;
    for (const [from, to] of this.state.lost ?? []) {
      count += Math.max(0, to - Math.max(from, this.state.ackedSeq + 1) + 1);
    }
    return count;
  }

  get aboveHighWater(): boolean {
    return this.queuedBytes >= this.highWaterBytes;
  }

  /** Where the next read starts: the end of the last acknowledged batch. */
  get readPosition(): QueuePosition {
    return this.ackedPosition();
  }

  /** The sequence number of the newest point; `flush` waits until this one is acknowledged. */
  get newestSeq(): number {
    return this.lastSeq;
  }

  /** The newest sequence number settled: acknowledged, or lost in a write right after those. */
  get ackedSeq(): number {
    let settled = this.state.ackedSeq;
    for (const [from, to] of [...(this.state.lost ?? [])].sort((a, b) => a[0] - b[0])) {
      if (from <= settled + 1 && to > settled) settled = to;
    }
    return settled;
  }

  /**
   * Appends one line; no I/O happens here. Returns the reason when it is refused (the caller
   * counts the drop): `queue_full` at the bound (readings already at `readingsRatio` of it, so
   * events still fit), `disk_stalled` while the disk lags PENDING_LIMIT bytes behind.
   */
  append(line: string, kind: PointKind = 'reading'): true | 'queue_full' | 'disk_stalled' {
    const record = encodeRecord(this.lastSeq + 1, line);
    const bound = kind === 'event' ? this.maxBytes : this.readingsBytes;
    if (this.queuedBytes + record.length > bound) return 'queue_full';
    if (this.pendingBytes + record.length > PENDING_LIMIT) return 'disk_stalled';
    let active = this.segments.at(-1) as Segment;
    if (active.size > 0 && active.size + record.length > this.segmentBytes) {
      active = { firstSeq: this.lastSeq + 1, size: 0, written: 0 };
      this.segments.push(active);
    }
    this.lastSeq += 1;
    this.pending.push({ segment: active, seq: this.lastSeq, buf: record });
    this.pendingBytes += record.length;
    active.size += record.length;
    this.totalBytes += record.length;
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      queueMicrotask(() => {
        this.writeScheduled = false;
        void this.enqueueIo(() => this.writePending());
      });
    }
    return true;
  }

  /** Runs `op` after every file operation queued before it; its failure does not stop later ones. */
  private enqueueIo<T>(op: () => Promise<T>): Promise<T> {
    const run = this.io.then(op);
    this.io = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.handleSegment = undefined;
    if (!handle) return;
    try {
      if (this.dirty) await handle.datasync();
    } finally {
      this.dirty = false;
      await handle.close();
    }
  }

  /**
   * Writes the lines appended since the last write, segment by segment. When the disk refuses
   * (ENOSPC, EIO), the partial write is cut off and those lines are counted as dropped
   * (`disk_error`) so the books still add up.
   */
  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const segment = (this.pending[0] as PendingRecord).segment;
      let count = 0;
      while (count < this.pending.length && (this.pending[count] as PendingRecord).segment === segment)
        count += 1;
      const batch = this.pending.splice(0, count);
      const bytes = batch.reduce((sum, r) => sum + r.buf.length, 0);
      const data =
        batch.length === 1
          ? (batch[0] as PendingRecord).buf
          : Buffer.concat(
              batch.map((r) => r.buf),
              bytes,
            );
      try {
        if (this.handleSegment !== segment) {
          // A rotation: the sealed segment is made durable before the new one starts.
          await this.closeHandle();
          this.handle = await open(this.pathOf(segment), 'a');
          this.handleSegment = segment;
        }
        const handle = this.handle as FileHandle;
        let written = 0;
        while (written < data.length) {
          written += (await handle.write(data, written, data.length - written)).bytesWritten;
        }
        segment.written += bytes;
        this.dirty = true;
        this.pendingBytes -= bytes;
      } catch (err) {
        this.pendingBytes -= bytes;
        segment.size -= bytes;
        this.totalBytes -= bytes;
        const from = (batch[0] as PendingRecord).seq;
        const to = (batch.at(-1) as PendingRecord).seq;
        (this.state.lost ??= []).push([from, to]);
        this.state.dropped.disk_error = (this.state.dropped.disk_error ?? 0) + batch.length;
        try {
          await this.handle?.truncate(segment.written);
        } catch {
          // the scan on the next start cuts it instead
        }
        this.onWriteError(
          `cannot write to the telemetry queue, ${batch.length} points dropped: ${(err as Error).message}`,
        );
      }
    }
  }

  /** How many of the sequence numbers from..to (inclusive) were not already counted as lost writes. */
  private unaccounted(from: number, to: number): number {
    let count = to - from + 1;
    if (count <= 0) return 0;
    for (const [a, b] of this.state.lost ?? []) {
      const overlap = Math.min(b, to) - Math.max(a, from) + 1;
      if (overlap > 0) count -= overlap;
    }
    return count;
  }

  /** Counts a point dropped before it reached the queue; persisted with the next state write. */
  refuse(reason: string): void {
    this.state.refused += 1;
    this.state.dropped[reason] = (this.state.dropped[reason] ?? 0) + 1;
  }

  /**
   * Reads up to `maxRecords` lines (and about `maxBytes`) after the acknowledged position, or after
   * `from` (the end of a batch not yet acknowledged: the sender reads the next batch while one is
   * in flight). A damaged record is passed over: reading resumes at the next valid record of the
   * segment, and every sequence number skipped is counted as corrupt.
   */
  read(maxRecords: number, maxBytes: number, from?: QueuePosition): Promise<QueueBatch> {
    return this.enqueueIo(async () => {
      await this.writePending();
      return this.readWritten(maxRecords, maxBytes, from ?? this.ackedPosition());
    });
  }

  private ackedPosition(): QueuePosition {
    return { segment: this.state.segment, offset: this.state.offset, nextSeq: this.state.ackedSeq + 1 };
  }

  private async readWritten(maxRecords: number, maxBytes: number, from: QueuePosition): Promise<QueueBatch> {
    const lines = new LinesBuilder();
    let corrupt = 0;
    let bytes = 0;
    let index = this.segments.findIndex((s) => s.firstSeq === from.segment);
    let offset = from.offset;
    let expected = from.nextSeq;
    if (index < 0) {
      return { lines: Lines.EMPTY, corrupt, end: { segment: from.segment, offset, nextSeq: expected } };
    }
    let handle: FileHandle | undefined;
    let handleIndex = -1;
    try {
      while (lines.count < maxRecords && bytes < maxBytes) {
        const segment = this.segments[index] as Segment;
        const next = this.segments[index + 1];
        if (offset >= segment.written) {
          if (!next || segment.written < segment.size) break;
          if (next.firstSeq > expected) {
            corrupt += this.unaccounted(expected, next.firstSeq - 1);
            expected = next.firstSeq;
          }
          index += 1;
          offset = 0;
          continue;
        }
        if (handleIndex !== index) {
          await handle?.close();
          handle = await open(this.pathOf(segment), 'r');
          handleIndex = index;
        }
        const length = Math.min(READ_CHUNK, segment.written - offset);
        const { bytesRead: available } = await (handle as FileHandle).read(this.readBuf, 0, length, offset);
        let p = 0;
        let broken = false;
        while (p < available && lines.count < maxRecords && bytes < maxBytes) {
          const size = recordSize(this.readBuf, p, available);
          if (size <= 0) {
            // Cut off by the chunk's end (read again from here), unless nothing whole fits: damage.
            if (size < 0 || p === 0) broken = true;
            break;
          }
          const seq = recordSeq(this.readBuf, p);
          const start = p;
          p += size;
          if (seq < expected) continue;
          if (seq > expected) corrupt += this.unaccounted(expected, seq - 1);
          lines.push(this.readBuf, start + RECORD_HEADER_BYTES, p);
          bytes += size;
          expected = seq + 1;
        }
        offset += p;
        if (broken) {
          const resumed = await this.resync(
            handle as FileHandle,
            segment.written,
            offset + 1,
            expected,
            this.lastSeq,
          );
          // Nothing valid follows in this segment: skip to its end; the gap is counted when the
          // next record (or segment) shows where the sequence continues.
          offset = resumed ?? segment.written;
          if (resumed === undefined && !next) {
            corrupt += this.unaccounted(expected, this.lastSeq - this.pendingInSegment(segment));
            expected = this.lastSeq - this.pendingInSegment(segment) + 1;
          }
        }
      }
    } finally {
      await handle?.close();
    }
    const segment = this.segments[index] as Segment;
    return { lines: lines.build(), corrupt, end: { segment: segment.firstSeq, offset, nextSeq: expected } };
  }

  /** Records of `segment` not yet written (they are read once the writer has put them down). */
  private pendingInSegment(segment: Segment): number {
    return this.pending.filter((r) => r.segment === segment).length;
  }

  /** Moves the read position to `end`, counting the outcome; passed segments are deleted. */
  ack(end: QueuePosition, outcome: BatchOutcome): Promise<void> {
    this.state.ackedSeq = end.nextSeq - 1;
    this.state.delivered += outcome.delivered;
    for (const [reason, count] of Object.entries(outcome.dropped)) {
      if (count > 0) this.state.dropped[reason] = (this.state.dropped[reason] ?? 0) + count;
    }
    this.state.lost = (this.state.lost ?? []).filter(([, to]) => to > this.state.ackedSeq);
    const moved = end.segment !== this.state.segment;
    this.state.segment = end.segment;
    this.state.offset = end.offset;
    return this.enqueueIo(async () => {
      if (moved) await this.dropPassedSegments();
      await this.writeState();
    });
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

  private async writeState(): Promise<void> {
    const path = join(this.dir, STATE_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(this.state));
    await rename(`${path}.tmp`, path);
  }

  /** Resolves when every line appended before the call is written to its segment file. */
  written(): Promise<void> {
    return this.enqueueIo(() => this.writePending());
  }

  /** fdatasync of the active segment when it changed; see the class comment for the policy. */
  sync(): Promise<void> {
    return this.enqueueIo(async () => {
      await this.writePending();
      if (this.handle === undefined || !this.dirty) return;
      await this.handle.datasync();
      this.dirty = false;
    });
  }

  /** Writes, syncs and records the state; the queue is not used after this. */
  close(): Promise<void> {
    if (this.closed) return this.io;
    this.closed = true;
    return this.enqueueIo(async () => {
      await this.writePending();
      await this.closeHandle();
      await this.writeState();
    });
  }
}
