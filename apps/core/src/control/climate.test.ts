import { afterEach, describe, expect, it } from 'vitest';
import { ClimateControl, fanShouldRun } from './climate';
import { LightSchedule } from './light-schedule';
import { controlFixture, type ControlFixture } from './control-fixture';

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

describe('climate control safety', () => {
  let f: ControlFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  /** Climate and light loops on the simulated cabinet, light schedule at its daytime level. */
  async function loops(fixture: ControlFixture) {
    const light = new LightSchedule(fixture.actuators, fixture.config, fixture.bus, () => fixture.clock.now);
    const climate = new ClimateControl(
      fixture.actuators,
      fixture.store,
      fixture.config,
      fixture.bus,
      () => fixture.clock.now,
    );
    light.start();
    climate.start();
    await light.tick();
    return {
      light,
      climate,
      stop() {
        climate.stop();
        light.stop();
      },
    };
  }

  it('drives the fan to its fail-safe level and caps the light when its inputs go stale', async () => {
    f = await controlFixture({
      timezone: 'UTC',
      light: { on: '06:00', off: '22:00', level: 80 },
      climate: { staleFanLevel: 100, staleLightLevel: 40 },
    });
    const l = await loops(f);
    f.read('air_temperature', 22, '°C');
    f.read('air_humidity', 50, '%');
    await l.climate.tick();
    expect(await f.hal.actuatorState('fan')).toEqual({ level: 0 });
    expect(await f.hal.actuatorState('light')).toEqual({ level: 80 });

    // No new readings for longer than staleAfterMs (30 s).
    f.clock.now += 31_000;
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('fan')).toEqual({ level: 100 });
    expect(await f.hal.actuatorState('light')).toEqual({ level: 40 });
    expect(f.events.find((e) => e.type === 'control.stale')).toMatchObject({
      severity: 'warning',
      data: { loop: 'climate', sensors: ['air_temperature', 'air_humidity'] },
    });

    // Fresh again: the hysteresis decision and the schedule's level come back.
    f.read('air_temperature', 22, '°C');
    f.read('air_humidity', 50, '%');
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('fan')).toEqual({ level: 0 });
    expect(await f.hal.actuatorState('light')).toEqual({ level: 80 });
    expect(f.events.map((e) => e.type)).toContain('control.resumed');
    l.stop();
  });

  it('dims the light and runs the fan full on over-temperature, until below the clear limit', async () => {
    f = await controlFixture({
      timezone: 'UTC',
      light: { on: '06:00', off: '22:00', level: 80 },
      climate: { overTemperatureC: 35, overTemperatureClearC: 32, overTemperatureLightLevel: 20 },
    });
    const l = await loops(f);
    f.read('air_humidity', 50, '%');
    f.read('air_temperature', 36, '°C');
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('light')).toEqual({ level: 20 });
    expect(await f.hal.actuatorState('fan')).toEqual({ level: 100 });
    expect(f.events.find((e) => e.type === 'climate.over_temperature')).toMatchObject({
      severity: 'critical',
      data: { value: 36, limit: 35, lightLevel: 20 },
    });

    // Inside the band (34 °C): still dimmed.
    f.read('air_temperature', 34, '°C');
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('light')).toEqual({ level: 20 });

    // The sensor fails while hot: the lower of the two limits holds, not the stale one (higher).
    f.clock.now += 31_000;
    f.read('air_humidity', 50, '%');
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('light')).toEqual({ level: 20 });

    f.read('air_temperature', 31, '°C');
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('light')).toEqual({ level: 80 });
    expect(f.events.map((e) => e.type)).toContain('climate.temperature_normal');
    l.stop();
  });

  it('dims a manually set light on over-temperature while the schedule is disabled', async () => {
    f = await controlFixture({ light: { enabled: false }, climate: { overTemperatureLightLevel: 10 } });
    const l = await loops(f);
    await f.actuators.set('light', { level: 90 }, 'rest');
    f.read('air_humidity', 50, '%');
    f.read('air_temperature', 40, '°C');
    await l.climate.tick();
    await l.light.tick();
    expect(await f.hal.actuatorState('light')).toEqual({ level: 10 });
    l.stop();
  });
});
