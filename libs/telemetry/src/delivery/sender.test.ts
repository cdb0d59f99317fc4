import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskQueue } from '../queue/disk-queue';
import type { Lines } from '../queue/lines';
import { Quarantine } from './quarantine';
import { Sender } from './sender';
import type { SendResult, Sink } from './sink';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A sink that keeps what it was sent and prepared, answering each send with the next of `answers`. */
class RecordingSink implements Sink {
  readonly sentLines: Lines[] = [];
  readonly preparedLines: Lines[] = [];
  constructor(private readonly answers: SendResult[] = []) {}
  describe(): string {
    return 'recording';
  }
  prepare(lines: Lines): void {
    this.preparedLines.push(lines);
  }
  async send(lines: Lines): Promise<SendResult> {
    this.sentLines.push(lines);
    return this.answers.shift() ?? { kind: 'ok' };
  }
  get sent(): string[][] {
    return this.sentLines.map((lines) => lines.toStrings());
  }
  get prepared(): string[][] {
    return this.preparedLines.map((lines) => lines.toStrings());
  }
}

async function setup(sink: Sink, points: number, batchSize: number) {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-telemetry-sender-'));
  dirs.push(dir);
  const queue = await DiskQueue.open({ dir, maxBytes: 1 << 24 });
  for (let i = 0; i < points; i += 1) queue.append(`sensor value=${i} ${i}`);
  const sender = new Sender(queue, sink, new Quarantine(join(dir, 'q.lp')), {
    batchSize,
    maxBatchBytes: 4 * 1024 * 1024,
    flushIntervalMs: 60_000,
    backoff: { baseMs: 1, maxMs: 1 },
    maxRetryAfterMs: 1,
    onAck: () => undefined,
    onError: () => undefined,
  });
  return { queue, sender };
}

/** Delivers every point through a sender, then stops it; returns the queue for its counters. */
async function deliverAll(sink: Sink, points: number, batchSize: number): Promise<DiskQueue> {
  const { queue, sender } = await setup(sink, points, batchSize);
  sender.start();
  await sender.flush();
  await sender.stop(1000);
  return queue;
}

const range = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `sensor value=${from + i} ${from + i}`);

describe('Sender', () => {
  it('sends whole batches in order, one at a time, preparing the next while one is in flight', async () => {
    const sink = new RecordingSink();
    const queue = await deliverAll(sink, 1050, 300);
    // The last batch is the rest.
    expect(sink.sent).toEqual([range(0, 300), range(300, 300), range(600, 300), range(900, 150)]);
    // Bodies are prepared only for whole batches read ahead, as the very objects sent later.
    expect(sink.prepared).toEqual([range(300, 300), range(600, 300)]);
    expect(sink.sentLines[1]).toBe(sink.preparedLines[0]);
    expect(sink.sentLines[2]).toBe(sink.preparedLines[1]);
    expect(queue.counters()).toMatchObject({ produced: 1050, delivered: 1050, queued: 0 });
    await queue.close();
  });

  it('retries a batch with the same lines, then sends the ones after it in order', async () => {
    const sink = new RecordingSink([
      { kind: 'retry', message: 'down' },
      { kind: 'ok' },
      { kind: 'retry', message: 'down' },
    ]);
    const queue = await deliverAll(sink, 1050, 300);
    expect(sink.sent).toEqual([
      range(0, 300),
      range(0, 300),
      range(300, 300),
      range(300, 300),
      range(600, 300),
      range(900, 150),
    ]);
    expect(queue.counters()).toMatchObject({ produced: 1050, delivered: 1050, queued: 0 });
    await queue.close();
  });

  it('splits a refused batch read ahead like any other, quarantining only the refused line', async () => {
    const sink = new RecordingSink([
      { kind: 'ok' },
      { kind: 'reject', message: 'bad line' },
      { kind: 'ok' },
      { kind: 'reject', message: 'bad line' },
      { kind: 'ok' },
      { kind: 'reject', message: 'bad line' },
    ]);
    const queue = await deliverAll(sink, 8, 4);
    expect(sink.sent).toEqual([range(0, 4), range(4, 4), range(4, 2), range(6, 2), range(6, 1), range(7, 1)]);
    expect(queue.counters()).toMatchObject({ delivered: 7, dropped: { rejected: 1 }, queued: 0 });
    await queue.close();
  });
});
