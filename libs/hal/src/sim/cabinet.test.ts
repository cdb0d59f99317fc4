import { describe, expect, it } from 'vitest';
import { steppedClock } from '../clock';
import { Cabinet } from './cabinet';

function manualClock() {
  const clock = steppedClock();
  return { clock, advance: clock.advance };
}

const MINUTE = 60_000;

describe('simulated cabinet', () => {
  it('warms the air and lights the canopy when the light is on', () => {
    const { clock, advance } = manualClock();
    const cabinet = new Cabinet(clock, 1);
    const before = cabinet.environment();
    cabinet.setInput('light', 1);
    advance(30 * MINUTE);
    const after = cabinet.environment();
    expect(after.airTemperature).toBeGreaterThan(before.airTemperature + 2);
    expect(after.lightIntensity).toBeGreaterThan(20_000);
    expect(after.co2).toBeLessThan(before.co2);
  });

  it('cools and dries the air towards the room when the fan runs', () => {
    const { clock, advance } = manualClock();
    const cabinet = new Cabinet(clock, 1, {
      airTemperature: 30,
      airHumidity: 85,
      ambientTemperature: 21,
      ambientHumidity: 50,
    });
    cabinet.setInput('fan', 1);
    advance(5 * MINUTE);
    const env = cabinet.environment();
    expect(env.airTemperature).toBeLessThan(23);
    expect(env.airHumidity).toBeLessThan(60);
  });

  it('draws the reservoir down while the pump runs and refills it after', () => {
    const { clock, advance } = manualClock();
    const cabinet = new Cabinet(clock, 1, { waterLevel: 0.8 });
    cabinet.setInput('pump', 1);
    advance(5 * MINUTE);
    const low = cabinet.environment().waterLevel;
    expect(low).toBeLessThan(0.25);
    cabinet.setInput('pump', 0);
    advance(5 * MINUTE);
    expect(cabinet.environment().waterLevel).toBeGreaterThan(low + 0.2);
  });

  it('drifts pH up and EC down as plants feed, and adds noise to measurements', () => {
    const { clock, advance } = manualClock();
    const cabinet = new Cabinet(clock, 1);
    const before = cabinet.environment();
    advance(24 * 60 * MINUTE);
    const after = cabinet.environment();
    expect(after.ph).toBeGreaterThan(before.ph);
    expect(after.ec).toBeLessThan(before.ec);
    const samples = Array.from({ length: 20 }, () => cabinet.measure('airTemperature', 0.1));
    expect(new Set(samples).size).toBe(20);
  });

  it('refuses an unknown quantity', () => {
    const { clock } = manualClock();
    expect(() => new Cabinet(clock).setEnvironment({ moisture: 1 } as never)).toThrow(
      /unknown simulated quantity moisture/,
    );
  });
});
