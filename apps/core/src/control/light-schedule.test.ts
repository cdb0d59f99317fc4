import { describe, expect, it } from 'vitest';
import { lightLevelAt } from './light-schedule';

const light = { enabled: true, on: '06:00', off: '22:00', rampMinutes: 30, level: 80 };
const at = (hh: number, mm = 0) => hh * 60 + mm;

describe('lightLevelAt', () => {
  it('is off at night and full during the day', () => {
    expect(lightLevelAt(light, at(3))).toBe(0);
    expect(lightLevelAt(light, at(23))).toBe(0);
    expect(lightLevelAt(light, at(12))).toBe(80);
  });

  it('dims up over the sunrise ramp and down over the sunset ramp', () => {
    expect(lightLevelAt(light, at(6))).toBe(0);
    expect(lightLevelAt(light, at(6, 15))).toBe(40);
    expect(lightLevelAt(light, at(6, 30))).toBe(80);
    expect(lightLevelAt(light, at(21, 30))).toBe(80);
    expect(lightLevelAt(light, at(21, 45))).toBe(40);
    expect(lightLevelAt(light, at(22))).toBe(0);
  });

  it('handles a photoperiod that crosses midnight', () => {
    const night = { ...light, on: '20:00', off: '08:00', rampMinutes: 0 };
    expect(lightLevelAt(night, at(23))).toBe(80);
    expect(lightLevelAt(night, at(2))).toBe(80);
    expect(lightLevelAt(night, at(12))).toBe(0);
  });
});
