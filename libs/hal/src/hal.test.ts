import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHal, DEFAULT_ACTUATOR_IDS, DEFAULT_SENSOR_IDS, type Hal } from './index';
import { ds18b20Scratchpad, w1SlaveText } from './sim/sim-w1';

describe('createHal in sim mode', () => {
  let hal: Hal | undefined;
  afterEach(async () => {
    await hal?.close();
    hal = undefined;
  });

  it('serves every contract sensor and actuator id of the default profile', async () => {
    hal = await createHal({ mode: 'sim', timeScale: 1000, seed: 7 });
    expect(hal.sensors().map((s) => s.id)).toEqual(DEFAULT_SENSOR_IDS);
    expect(hal.actuators().map((a) => a.id)).toEqual(DEFAULT_ACTUATOR_IDS);
    expect(hal.actuators()).toEqual([
      { id: 'light', kind: 'dimmer', device: 'pca9685' },
      { id: 'fan', kind: 'dimmer', device: 'pca9685' },
      { id: 'pump', kind: 'switch', device: 'mcp23017' },
    ]);
  });

  it('reads every default sensor with quality ok and a plausible value', async () => {
    hal = await createHal({ mode: 'sim', timeScale: 1000, seed: 7 });
    const before = hal.simulation!.environment();
    const readings = Object.fromEntries(
      await Promise.all(hal.sensors().map(async (s) => [s.id, await hal!.read(s.id)] as const)),
    );
    const after = hal.simulation!.environment();
    for (const id of DEFAULT_SENSOR_IDS) {
      expect(readings[id]!.quality, `${id}: ${readings[id]!.error}`).toBe('ok');
      expect(readings[id]!.value).toBeTypeOf('number');
    }
    // The cabinet drifts while the reads run (CO2 by 90 ppm per real second at 1000x): each value
    // is within its tolerance of the truth at some time during them, however long they took.
    const near = (id: string, quantity: string, tolerance: number) => {
      const [a, b] = [before[quantity]!, after[quantity]!];
      expect(readings[id]!.value!, id).toBeGreaterThan(Math.min(a, b) - tolerance);
      expect(readings[id]!.value!, id).toBeLessThan(Math.max(a, b) + tolerance);
    };
    near('air_temperature', 'airTemperature', 0.5);
    near('air_humidity', 'airHumidity', 5);
    near('co2', 'co2', 60);
    near('water_temperature', 'waterTemperature', 0.5);
    near('ph', 'ph', 0.05);
    near('ec', 'ec', 40);
    expect(readings.water_level!.value).toBe(1);
  });

  it('reads actuator states back from the registers after commands', async () => {
    hal = await createHal({ mode: 'sim', timeScale: 1000 });
    expect(await hal.actuatorState('light')).toEqual({ level: 0 });
    expect(await hal.setActuator('light', { level: 40 })).toEqual({ level: 40 });
    expect(await hal.setActuator('fan', { state: 'on' })).toEqual({ level: 100 });
    expect(await hal.setActuator('pump', { state: 'on' })).toEqual({ state: 'on' });
    expect(await hal.actuatorState('light')).toEqual({ level: 40 });
    expect(await hal.actuatorState('pump')).toEqual({ state: 'on' });
    await expect(hal.setActuator('pump', { level: 50 })).rejects.toMatchObject({ code: 'HAL_BAD_COMMAND' });
    await expect(hal.setActuator('light', { level: 101 })).rejects.toMatchObject({ code: 'HAL_BAD_COMMAND' });
    await expect(hal.setActuator('heater', { state: 'on' })).rejects.toMatchObject({
      code: 'HAL_UNKNOWN_ACTUATOR',
    });
  });
});

// This machine has no I2C adapter, so bus 1 is the real missing-bus case; bus 97 never exists.
const missingBus = existsSync('/dev/i2c-1') ? 97 : 1;

describe(`createHal in i2c mode without /dev/i2c-${missingBus}`, () => {
  it('starts, and reports every I2C sensor unavailable with an error naming the bus', async () => {
    const hal = await createHal({ mode: 'i2c', busNumber: missingBus, w1Root: '/nonexistent-w1' });
    try {
      const reading = await hal.read('air_temperature');
      expect(reading).toMatchObject({ value: null, quality: 'unavailable' });
      expect(reading.error).toContain(`/dev/i2c-${missingBus}`);
      await expect(hal.setActuator('light', { level: 10 })).rejects.toMatchObject({
        code: 'HAL_I2C_BUS_MISSING',
      });
      const water = await hal.read('water_temperature');
      expect(water).toMatchObject({ value: null, quality: 'unavailable' });
      expect(hal.health().devices.sht3x!.errors).toBeGreaterThan(0);
    } finally {
      await hal.close();
    }
  });

  it('keeps reading the rest: the 1-Wire probe still reads ok', async () => {
    const root = await mkdtemp(join(tmpdir(), 'hal-i2c-w1-'));
    try {
      const dir = join(root, 'devices', '28-00000a1b2c3d');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'w1_slave'), w1SlaveText(ds18b20Scratchpad(19.5), true));
      const hal = await createHal({ mode: 'i2c', busNumber: missingBus, w1Root: root });
      try {
        expect((await hal.read('co2')).quality).toBe('unavailable');
        expect(await hal.read('water_temperature')).toMatchObject({ value: 19.5, quality: 'ok', unit: '°C' });
      } finally {
        await hal.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
