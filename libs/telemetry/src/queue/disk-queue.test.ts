import fs, { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DiskQueue } from './disk-queue';
import { RECORD_HEADER_BYTES } from './record';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-queue-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  syncBuiltinESMExports();
});
const line = (i: number) => `sensor,module=m,sensor=s value=${i} ${1000 + i}`;

async function drain(queue: DiskQueue): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const batch = await queue.read(37, 1 << 20);
    if (batch.lines.count === 0 && batch.corrupt === 0) return out;
    out.push(...batch.lines.toStrings());
    await queue.ack(batch.end, {
      delivered: batch.lines.count,
      dropped: batch.corrupt ? { corrupt: batch.corrupt } : {},
    });
  }
}

const segmentsOf = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();

describe('DiskQueue', () => {
  it('returns lines in order across segments and deletes segments once read past', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3000; i += 1) expect(queue.append(line(i))).toBe(true);
    await queue.sync();
    expect(segmentsOf(dir).length).toBeGreaterThan(1);
    expect(await drain(queue)).toEqual(Array.from({ length: 3000 }, (_, i) => line(i)));
    expect(segmentsOf(dir)).toHaveLength(1);
    expect(queue.counters()).toMatchObject({ produced: 3000, delivered: 3000, queued: 0, queuedBytes: 0 });
    await queue.close();
  });

  it('reads the batch after one not yet acknowledged exactly as it reads it after the acknowledgement', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3000; i += 1) queue.append(line(i));
    const first = await queue.read(1400, 1 << 20);
    // Crosses into the next segment: the first holds fewer than 2800 lines.
    const ahead = await queue.read(1400, 1 << 20, first.end);
    expect(queue.readPosition).toEqual({ segment: 1, offset: 0, nextSeq: 1 });
    expect(queue.counters().queued).toBe(3000);
    await queue.ack(first.end, { delivered: first.lines.count, dropped: {} });
    expect(queue.readPosition).toEqual(first.end);
    expect(await queue.read(1400, 1 << 20)).toEqual(ahead);
    expect(ahead.lines.toStrings()).toEqual(Array.from({ length: 1400 }, (_, i) => line(1400 + i)));
    await queue.close();
  });

  it('resumes after a restart where the last acknowledged batch ended, with its counters', async () => {
    const dir = tempDir();
    const first = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 1000; i += 1) first.append(line(i));
    const batch = await first.read(400, 1 << 20);
    await first.ack(batch.end, { delivered: 399, dropped: { rejected: 1 } });
    first.refuse('invalid');
    await first.close();

    const second = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    expect(second.counters()).toMatchObject({
      produced: 1001,
      delivered: 399,
      dropped: { rejected: 1, invalid: 1 },
      queued: 600,
    });
    expect(await drain(second)).toEqual(Array.from({ length: 600 }, (_, i) => line(400 + i)));
    await second.close();
  });

  it('cuts a torn record at the tail after a crash and keeps every whole one', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i += 1) queue.append(line(i));
    await queue.sync();
    const segment = segmentsOf(dir)[0] as string;
    // Half a record, as a write cut by a crash leaves it.
    appendFileSync(join(dir, segment), Buffer.from([40, 0, 0, 0, 1, 2, 3]));

    const recovered = await DiskQueue.open({ dir, maxBytes: 1 << 20 });
    expect(recovered.counters()).toMatchObject({ produced: 10, queued: 10 });
    recovered.append(line(10));
    expect(await drain(recovered)).toEqual(Array.from({ length: 11 }, (_, i) => line(i)));
    await recovered.close();
  });

  it('reads on past a damaged record in a sealed segment, counting only the records it destroyed', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3000; i += 1) queue.append(line(i));
    await queue.close();
    const segments = segmentsOf(dir);
    const firstSegment = join(dir, segments[0] as string);
    const bytes = readFileSync(firstSegment);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    writeFileSync(firstSegment, bytes);
    const secondStarts = Number((segments[1] as string).slice(0, -4));

    const reopened = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    const lines = await drain(reopened);
    const c = reopened.counters();
    expect(c.produced).toBe(3000);
    expect(c.delivered + (c.dropped.corrupt ?? 0)).toBe(3000);
    // Byte 100 lies in the second record (records are about 60 bytes): only it is lost.
    expect(c.dropped.corrupt).toBe(1);
    expect(lines).not.toContain(line(1));
    expect(lines).toContain(line(2));
    expect(lines).toContain(line(secondStarts - 1));
    expect(lines.at(-1)).toBe(line(2999));
    await reopened.close();
  });

  it('keeps the valid records after damage in the middle of the active segment across a restart', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 100; i += 1) queue.append(line(i));
    await queue.close();
    const file = join(dir, segmentsOf(dir)[0] as string);
    const bytes = readFileSync(file);
    let at = 0;
    for (let i = 0; i < 50; i += 1) at += RECORD_HEADER_BYTES + Buffer.byteLength(line(i));
    // Zero the header of record 50, as a sector lost mid-file leaves it.
    bytes.fill(0, at, at + RECORD_HEADER_BYTES);
    writeFileSync(file, bytes);

    const reopened = await DiskQueue.open({ dir, maxBytes: 1 << 20 });
    expect(reopened.counters()).toMatchObject({ produced: 100, queued: 100 });
    const lines = await drain(reopened);
    expect(lines).toHaveLength(99);
    expect(lines).not.toContain(line(50));
    expect(lines.at(-1)).toBe(line(99));
    expect(reopened.counters()).toMatchObject({ produced: 100, delivered: 99, dropped: { corrupt: 1 } });
    await reopened.close();
  });

  it('refuses a line that would pass the byte bound and signals high water before it', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 10_000, highWaterRatio: 0.5 });
    let accepted = 0;
    while (queue.append(line(accepted), 'event') === true) accepted += 1;
    expect(queue.queuedBytes).toBeLessThanOrEqual(10_000);
    expect(queue.aboveHighWater).toBe(true);
    const batch = await queue.read(accepted, 1 << 20);
    await queue.ack(batch.end, { delivered: accepted, dropped: {} });
    expect(queue.aboveHighWater).toBe(false);
    expect(queue.append(line(accepted))).toBe(true);
    await queue.close();
  });

  it('when full, refuses readings first: events still fit in the share kept for them', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 20_000, readingsRatio: 0.8 });
    let readings = 0;
    while (queue.append(line(readings), 'reading') === true) readings += 1;
    expect(queue.append(line(-1), 'reading')).toBe('queue_full');
    expect(queue.queuedBytes).toBeLessThanOrEqual(16_000);
    let events = 0;
    while (queue.append(`event,module=m,type=t message="${events}" 1`, 'event') === true) events += 1;
    expect(events).toBeGreaterThan(0);
    expect(queue.queuedBytes).toBeLessThanOrEqual(20_000);
    expect(queue.queuedBytes).toBeGreaterThan(19_000);
    await queue.close();
  });

  it('does no synchronous file I/O when appending, reading, acknowledging or syncing', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    const names = [
      'writeSync',
      'fsyncSync',
      'fdatasyncSync',
      'readSync',
      'openSync',
      'writeFileSync',
      'renameSync',
      'unlinkSync',
      'ftruncateSync',
    ] as const;
    const spies = names.map((name) => vi.spyOn(fs, name));
    // Named imports of node:fs see the spies too.
    syncBuiltinESMExports();
    for (let i = 0; i < 3000; i += 1) queue.append(line(i));
    await queue.sync();
    expect(await drain(queue)).toHaveLength(3000);
    await queue.close();
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('counts the points of a failed write as disk_error once, and reads on after them', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    const queue = await DiskQueue.open({ dir, maxBytes: 1 << 20, onWriteError: (m) => errors.push(m) });
    for (let i = 0; i < 10; i += 1) queue.append(line(i));
    await queue.sync();
    // The disk refuses the next run of appends (ENOSPC).
    const probe = await open(join(dir, 'probe'), 'w');
    const handleProto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => unknown };
    await probe.close();
    vi.spyOn(handleProto, 'write').mockRejectedValueOnce(
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    );
    for (let i = 10; i < 15; i += 1) queue.append(line(i));
    await queue.sync();
    for (let i = 15; i < 20; i += 1) queue.append(line(i));
    const lines = await drain(queue);
    expect(lines).toEqual([
      ...Array.from({ length: 10 }, (_, i) => line(i)),
      ...Array.from({ length: 5 }, (_, i) => line(15 + i)),
    ]);
    expect(queue.counters()).toMatchObject({
      produced: 20,
      delivered: 15,
      dropped: { disk_error: 5 },
      queued: 0,
    });
    expect(errors.join()).toMatch(/5 points dropped/);
    await queue.close();
  });

  it('on a stalled SD card holds at most 8 MiB in memory, refuses the rest as disk_stalled, and the loop runs on', async () => {
    const dir = tempDir();
    const queue = await DiskQueue.open({ dir, maxBytes: 256 * 1024 * 1024 });
    const probe = await open(join(dir, 'probe'), 'w');
    const handleProto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const realWrite = handleProto.write;
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The card stops answering: the first write hangs until released.
    vi.spyOn(handleProto, 'write').mockImplementationOnce(async function (this: unknown, ...args: unknown[]) {
      await stalled;
      return realWrite.apply(this, args);
    });
    let accepted = 0;
    let refused: string | true = true;
    while (refused === true) {
      refused = queue.append(line(accepted));
      if (refused === true) accepted += 1;
      // Yield now and then, as the core does between samples: the event loop must keep turning.
      if (accepted % 10_000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(refused).toBe('disk_stalled');
    let held = 0;
    for (let i = 0; i < accepted; i += 1) held += RECORD_HEADER_BYTES + Buffer.byteLength(line(i));
    expect(held).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(held + RECORD_HEADER_BYTES + Buffer.byteLength(line(accepted))).toBeGreaterThan(8 * 1024 * 1024);

    release();
    await queue.written();
    expect(queue.append(line(accepted))).toBe(true);
    expect(await drain(queue)).toHaveLength(accepted + 1);
    await queue.close();
  });
});
