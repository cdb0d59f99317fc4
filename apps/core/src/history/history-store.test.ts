import { mkdtemp, mkdir, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '@growoff/protocol';
import { EventBus } from '../event-bus';
import { HistoryStore, type HistoryOptions } from './history-store';
import { segmentName } from './history-segments';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0); // on the hour
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function setup(options: HistoryOptions = {}, dataDir?: string) {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'growoff-history-')));
  if (!dataDir) dirs.push(dir);
  const clock = { t: T0 };
  const bus = new EventBus();
  const events: Event[] = [];
  bus.on('event', (e) => events.push(e));
  const store = new HistoryStore(dir, bus, { flushMs: 3_600_000, now: () => clock.t, ...options });
  await store.start();
  const ok = (ts: number, value: number, id = 'ph') => store.record({ id, value, quality: 'ok', ts });
  return { dir, clock, bus, events, store, ok };
}

/** A store started on `dir` answers both readings the two tests below record (6, then 8). */
async function expectBothOnDisk(dir: string) {
  const again = await setup({}, dir);
  expect(again.store.query('ph', 'pH', { from: T0, to: T0 + 3000, step: 1000 }).points).toEqual([
    [T0, null],
    [T0 + 1000, 6],
    [T0 + 2000, 8],
  ]);
  await again.store.stop();
}

describe('history store', () => {
  it('answers each bucket with the mean of its good readings, null where there were none', async () => {
    const { store, ok, clock } = await setup();
    ok(T0 + 1000, 6);
    ok(T0 + 2000, 7);
    store.record({ id: 'ph', value: null, quality: 'timeout', ts: T0 + 3000 });
    store.record({ id: 'ph', value: 99, quality: 'stale', ts: T0 + 4000 });
    ok(T0 + 12_000, 5);
    clock.t = T0 + 30_000;
    const h = store.query('ph', 'pH', { from: T0 + 500, to: T0 + 30_000, step: 10_000 });
    expect(h).toEqual({
      sensor: 'ph',
      unit: 'pH',
      from: T0, // aligned down to the step
      to: T0 + 30_000,
      step: 10_000,
      points: [
        [T0, 6.5],
        [T0 + 10_000, 5],
        [T0 + 20_000, null],
      ],
    });
    expect(store.query('ec', 'µS/cm', { from: T0, to: T0 + 2000, step: 1000 }).points).toEqual([
      [T0, null],
      [T0 + 1000, null],
    ]);
    await store.stop();
  });

  it('defaults to the last hour in at most 360 buckets', async () => {
    const { store } = await setup();
    const h = store.query('ph', 'pH', {});
    expect(h.to).toBe(T0);
    expect(h.step).toBe(10_000);
    expect(h.points).toHaveLength(360);
    await store.stop();
  });

  it('refuses from after to and a query of too many points with INVALID_MESSAGE', async () => {
    const { store } = await setup();
    expect(() => store.query('ph', 'pH', { from: T0, to: T0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
    expect(() => store.query('ph', 'pH', { from: T0 - 86_400_000, to: T0, step: 1000 })).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE', message: expect.stringContaining('at most 5000') }),
    );
    await store.stop();
  });

  it('survives a restart: what was flushed loads back into the same answer', async () => {
    const { dir, store, ok, clock } = await setup();
    for (let i = 0; i < 180; i++) ok(T0 + i * 1000, 6 + (i % 3));
    clock.t = T0 + 200_000;
    const before = store.query('ph', 'pH', { from: T0, to: T0 + 200_000, step: 5000 });
    await store.stop();
    const again = await setup({}, dir);
    again.clock.t = T0 + 200_000;
    expect(again.store.query('ph', 'pH', { from: T0, to: T0 + 200_000, step: 5000 })).toEqual(before);
    await again.store.stop();
  });

  it('writes a reading recorded while its file is being appended to, at the next flush', async () => {
    const { dir, store, ok } = await setup();
    ok(T0 + 1000, 6);
    const flushing = store.flush();
    ok(T0 + 2000, 8); // queued for the same file while the first append is in flight
    await flushing;
    await store.flush();
    await store.stop();
    await expectBothOnDisk(dir);
  });

  it('stops only after writing what was recorded while a flush was under way', async () => {
    const { dir, store, ok } = await setup();
    ok(T0 + 1000, 6);
    void store.flush();
    ok(T0 + 2000, 8);
    await store.stop();
    await expectBothOnDisk(dir);
  });

  it('keeps raw readings for rawRetentionMs, then answers from exact minute means and deletes the raw files', async () => {
    const { dir, store, ok, clock } = await setup({ rawRetentionMs: 3_600_000 });
    // Minute 0: 1, 2, 3, 6 (mean 3); minute 1: 10.
    for (const [s, v] of [
      [0, 1],
      [15, 2],
      [30, 3],
      [45, 6],
      [70, 10],
    ] as const)
      ok(T0 + s * 1000, v);
    clock.t = T0 + 5 * 60_000;
    await store.flush();
    clock.t = T0 + 3 * 3_600_000; // the raw hour of T0 is past its retention
    await store.prune();
    expect((await readdir(join(dir, 'history'))).sort()).toEqual([segmentName('min', T0)]);
    const h = store.query('ph', 'pH', { from: T0, to: T0 + 120_000, step: 30_000 });
    expect(h.points).toEqual([
      [T0, 3],
      [T0 + 30_000, null],
      [T0 + 60_000, 10],
      [T0 + 90_000, null],
    ]);
    await store.stop();
    const again = await setup({ rawRetentionMs: 3_600_000 }, dir);
    again.clock.t = T0 + 3 * 3_600_000;
    expect(again.store.query('ph', 'pH', { from: T0, to: T0 + 120_000, step: 60_000 }).points).toEqual([
      [T0, 3],
      [T0 + 60_000, 10],
    ]);
    await again.store.stop();
  });

  it('forgets minute means past the retention and keeps the files under the size cap, oldest first', async () => {
    const { dir, store, ok, clock } = await setup({ retentionMs: 2 * 86_400_000, maxBytes: 600 });
    for (let day = 0; day < 4; day++) for (let i = 0; i < 5; i++) ok(T0 + day * 86_400_000 + i * 60_000, day);
    clock.t = T0 + 3 * 86_400_000 + 10 * 60_000;
    await store.flush();
    await store.prune();
    const names = await readdir(join(dir, 'history'));
    expect(names).not.toContain(segmentName('min', T0));
    const sizes = await Promise.all(names.map((n) => readFile(join(dir, 'history', n), 'utf8')));
    expect(sizes.reduce((n, s) => n + Buffer.byteLength(s), 0)).toBeLessThanOrEqual(600);
    expect(names).toContain(segmentName('raw', T0 + 3 * 86_400_000));
    expect(
      store
        .query('ph', 'pH', { from: T0, to: T0 + 300_000, step: 60_000 })
        .points.every((p) => p[1] === null),
    ).toBe(true);
    await store.stop();
  });

  it('skips corrupt and torn lines on load, says so in an event, and appends after a torn tail cleanly', async () => {
    const first = await setup();
    first.ok(T0 + 1000, 6);
    first.ok(T0 + 2000, 8);
    await first.store.stop();
    const file = join(first.dir, 'history', segmentName('raw', T0));
    await appendFile(file, 'garbage\n[1,"ph"]\n[' + (T0 + 3000) + ',"ph",7');
    const again = await setup({}, first.dir);
    expect(again.events).toContainEqual(
      expect.objectContaining({
        type: 'history.corrupt',
        data: { lines: 3, files: [segmentName('raw', T0)] },
      }),
    );
    again.clock.t = T0 + 10_000;
    expect(again.store.query('ph', 'pH', { from: T0, to: T0 + 10_000, step: 10_000 }).points).toEqual([
      [T0, 7],
    ]);
    again.ok(T0 + 4000, 10);
    await again.store.stop();
    const third = await setup({}, first.dir);
    third.clock.t = T0 + 10_000;
    expect(third.store.query('ph', 'pH', { from: T0, to: T0 + 10_000, step: 10_000 }).points).toEqual([
      [T0, 8],
    ]);
    // The damaged lines stay (append-only) but the new line did not join the torn one.
    expect(third.events.find((e) => e.type === 'history.corrupt')?.data).toMatchObject({ lines: 3 });
    await third.store.stop();
  });

  it('keeps serving and buffering when the disk refuses writes, and writes the backlog once it takes them', async () => {
    const { dir, store, ok, events, clock } = await setup({ maxPendingLines: 3 });
    const file = join(dir, 'history', segmentName('raw', T0));
    await mkdir(file, { recursive: true }); // appendFile now fails with EISDIR
    for (let i = 0; i < 5; i++) ok(T0 + i * 1000, i);
    await store.flush();
    expect(events.filter((e) => e.type === 'history.write_failed')).toHaveLength(1);
    expect(store.dropped).toBe(2);
    clock.t = T0 + 10_000;
    expect(store.query('ph', 'pH', { from: T0, to: T0 + 10_000, step: 10_000 }).points).toEqual([[T0, 2]]);
    await rm(file, { recursive: true });
    await store.flush();
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(3);
    await writeFile(join(dir, 'history', 'notes.txt'), 'left alone');
    await store.stop();
    expect(await readdir(join(dir, 'history'))).toContain('notes.txt');
  });

  it('keeps within maxPendingLines when a refused write puts its lines back ahead of newer ones', async () => {
    const { dir, store, ok } = await setup({ maxPendingLines: 3 });
    const file = join(dir, 'history', segmentName('raw', T0));
    await mkdir(file, { recursive: true }); // appendFile now fails with EISDIR
    for (let i = 0; i < 3; i++) ok(T0 + i * 1000, i);
    const flushing = store.flush();
    ok(T0 + 3000, 3); // queued while the write that will fail is in flight
    ok(T0 + 4000, 4);
    await flushing;
    expect(store.dropped).toBe(2); // the oldest two, at once, not at the next reading
    await rm(file, { recursive: true });
    await store.flush();
    const values = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as [number, string, number])[2]);
    expect(values).toEqual([2, 3, 4]);
    await store.stop();
  });
});
