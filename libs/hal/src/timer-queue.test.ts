import { describe, expect, it } from 'vitest';
import { TimerQueue } from './timer-queue';

/** Sets a timer that records when it fired, and a promise of that. */
function timed(q: TimerQueue, ms: number, fired: string[], name: string) {
  const set = performance.now();
  let cancel!: () => void;
  const done = new Promise<number>((resolve) => {
    cancel = q.set(ms, () => {
      fired.push(name);
      resolve(performance.now() - set);
    });
  });
  return { done, cancel };
}

describe('TimerQueue', () => {
  it('fires every timer no earlier than its delay, in due order, whatever order they were set in', async () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    const c = timed(q, 30, fired, 'c');
    const a = timed(q, 5, fired, 'a');
    const b = timed(q, 15, fired, 'b');
    const [ta, tb, tc] = await Promise.all([a.done, b.done, c.done]);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(ta).toBeGreaterThanOrEqual(5);
    expect(tb).toBeGreaterThanOrEqual(15);
    expect(tc).toBeGreaterThanOrEqual(30);
    expect(q.size).toBe(0);
  });

  it('never fires a cancelled timer, and still fires the ones after it', async () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    const first = timed(q, 5, fired, 'first');
    const second = timed(q, 10, fired, 'second');
    first.cancel();
    first.cancel(); // twice is harmless
    expect(q.size).toBe(1);
    await second.done;
    const third = timed(q, 5, fired, 'third');
    await third.done;
    expect(fired).toEqual(['second', 'third']);
  });

  it('holds the process open only while a timer is pending', async () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    const refs = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = refs();
    const t = timed(q, 60_000, fired, 'long');
    expect(refs()).toBe(before + 1);
    t.cancel();
    // The one real timer stays armed, unreferenced: it no longer keeps the process alive.
    expect(refs()).toBe(before);
    const short = timed(q, 5, fired, 'short');
    expect(refs()).toBe(before + 1);
    await short.done;
    expect(refs()).toBe(before);
    expect(fired).toEqual(['short']);
  });

  it('never fires a timer that another one cancels in the same batch, and stays sound after', async () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    let cancelB = (): void => undefined;
    const a = timed(q, 5, fired, 'a');
    q.set(5, () => cancelB()); // due with a, after it
    cancelB = timed(q, 5, fired, 'b').cancel;
    // Hold the event loop past all three due times, so that one wake-up finds them due together.
    for (const until = performance.now() + 10; performance.now() < until;);
    await a.done;
    expect(q.size).toBe(0);
    const c = timed(q, 5, fired, 'c');
    await c.done;
    expect(fired).toEqual(['a', 'c']);
  });
});
