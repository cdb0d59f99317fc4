import { describe, expect, it } from 'vitest';
import { steppedClock } from './clock';

describe('steppedClock', () => {
  it('moves only when slept on or advanced, by exactly that much', async () => {
    const clock = steppedClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.sleep(5000);
    expect(clock.now()).toBe(6000);
    clock.advance(250);
    expect(clock.now()).toBe(6250);
  });

  it('fires the timers that fall due, in due order, and never a cancelled one', () => {
    const clock = steppedClock();
    const fired: string[] = [];
    clock.timer(300, () => fired.push('c'));
    clock.timer(100, () => fired.push('a'));
    const cancel = clock.timer(200, () => fired.push('cancelled'));
    clock.timer(200, () => fired.push('b'));
    cancel();
    clock.advance(150);
    expect(fired).toEqual(['a']);
    clock.advance(1000);
    expect(fired).toEqual(['a', 'b', 'c']);
  });
});
