import { describe, expect, it } from 'vitest';
import { fanShouldRun } from './climate';

const c = { fanOnAboveC: 28, fanOffBelowC: 26, fanOnAboveHumidity: 80, fanOffBelowHumidity: 70 };

describe('fanShouldRun', () => {
  it('starts the fan above either upper limit', () => {
    expect(fanShouldRun(c, 29, 50, false)).toBe(true);
    expect(fanShouldRun(c, 20, 85, false)).toBe(true);
  });

  it('holds its state inside the hysteresis band', () => {
    expect(fanShouldRun(c, 27, 50, true)).toBe(true);
    expect(fanShouldRun(c, 27, 50, false)).toBe(false);
    expect(fanShouldRun(c, 20, 75, true)).toBe(true);
  });

  it('stops only when both values are below their lower limits', () => {
    expect(fanShouldRun(c, 25, 65, true)).toBe(false);
    expect(fanShouldRun(c, 25, 72, true)).toBe(true);
  });
});
