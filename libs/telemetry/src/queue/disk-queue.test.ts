import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskQueue } from './disk-queue';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-queue-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const line = (i: number) => `sensor,module=m,sensor=s value=${i} ${1000 + i}`;

function drain(queue: DiskQueue): string[] {
  const out: string[] = [];
  for (;;) {
    const batch = queue.read(37, 1 << 20);
    if (batch.records.length === 0 && batch.corrupt === 0) return out;
    out.push(...batch.records.map((r) => r.line));
    queue.ack(batch.end, {
      delivered: batch.records.length,
      dropped: batch.corrupt ? { corrupt: batch.corrupt } : {},
    });
  }
}

describe('DiskQueue', () => {
  it('returns lines in order across segments and deletes segments once read past', () => {
    const dir = tempDir();
    const queue = DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3000; i += 1) expect(queue.append(line(i))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(1);
    expect(drain(queue)).toEqual(Array.from({ length: 3000 }, (_, i) => line(i)));
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toHaveLength(1);
    expect(queue.counters()).toMatchObject({ produced: 3000, delivered: 3000, queued: 0, queuedBytes: 0 });
    queue.close();
  });

  it('resumes after a restart where the last acknowledged batch ended, with its counters', () => {
    const dir = tempDir();
    const first = DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 1000; i += 1) first.append(line(i));
    const batch = first.read(400, 1 << 20);
    first.ack(batch.end, { delivered: 399, dropped: { rejected: 1 } });
    first.refuse('invalid');
    first.close();

    const second = DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    expect(second.counters()).toMatchObject({
      produced: 1001,
      delivered: 399,
      dropped: { rejected: 1, invalid: 1 },
      queued: 600,
    });
    expect(drain(second)).toEqual(Array.from({ length: 600 }, (_, i) => line(400 + i)));
    second.close();
  });

  it('cuts a torn record at the tail after a crash and keeps every whole one', () => {
    const dir = tempDir();
    const queue = DiskQueue.open({ dir, maxBytes: 1 << 20 });
    for (let i = 0; i < 10; i += 1) queue.append(line(i));
    queue.sync();
    const segment = readdirSync(dir).find((f) => f.endsWith('.seg')) as string;
    // Half a record, as a write cut by a crash leaves it.
    appendFileSync(join(dir, segment), Buffer.from([40, 0, 0, 0, 1, 2, 3]));

    const recovered = DiskQueue.open({ dir, maxBytes: 1 << 20 });
    expect(recovered.counters()).toMatchObject({ produced: 10, queued: 10 });
    recovered.append(line(10));
    expect(drain(recovered)).toEqual(Array.from({ length: 11 }, (_, i) => line(i)));
  });

  it('counts the records of a damaged sealed segment as corrupt and reads on from the next one', () => {
    const dir = tempDir();
    const queue = DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3000; i += 1) queue.append(line(i));
    queue.close();
    const segments = readdirSync(dir)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    const firstSegment = join(dir, segments[0] as string);
    const bytes = readFileSync(firstSegment);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    writeFileSync(firstSegment, bytes);
    const secondStarts = Number((segments[1] as string).slice(0, -4));

    const reopened = DiskQueue.open({ dir, maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    const lines = drain(reopened);
    const c = reopened.counters();
    expect(c.produced).toBe(3000);
    expect(c.delivered + (c.dropped.corrupt ?? 0)).toBe(3000);
    expect(lines.at(-1)).toBe(line(2999));
    expect(lines).toContain(line(secondStarts - 1));
    expect(c.dropped.corrupt).toBeGreaterThan(0);
  });

  it('refuses a line that would pass the byte bound and signals high water before it', () => {
    const dir = tempDir();
    const queue = DiskQueue.open({ dir, maxBytes: 10_000, highWaterRatio: 0.5 });
    let accepted = 0;
    while (queue.append(line(accepted))) accepted += 1;
    expect(queue.queuedBytes).toBeLessThanOrEqual(10_000);
    expect(queue.aboveHighWater).toBe(true);
    const batch = queue.read(accepted, 1 << 20);
    queue.ack(batch.end, { delivered: accepted, dropped: {} });
    expect(queue.aboveHighWater).toBe(false);
    expect(queue.append(line(accepted))).toBe(true);
  });
});
