import { describe, expect, it } from 'vitest';
import { createHal } from '../hal';
import { DEFAULT_PROFILE } from './default-profile';
import { parseProfile, type HardwareProfile } from './profile';

const clone = (): HardwareProfile => structuredClone(DEFAULT_PROFILE);

function refused(mutate: (p: Record<string, unknown> & HardwareProfile) => void): string {
  const p = clone() as Record<string, unknown> & HardwareProfile;
  mutate(p);
  try {
    parseProfile(p);
  } catch (e) {
    expect(e).toMatchObject({ name: 'HalError', code: 'HAL_PROFILE_INVALID' });
    return (e as Error).message;
  }
  throw new Error('profile was accepted');
}

describe('hardware profile', () => {
  it('accepts the default GrowOff profile and round-trips it through JSON', () => {
    expect(parseProfile(JSON.parse(JSON.stringify(DEFAULT_PROFILE)))).toEqual(DEFAULT_PROFILE);
    expect(DEFAULT_PROFILE.sensors.find((s) => s.id === 'water_level')).toMatchObject({ unit: 'bool' });
  });

  it('refuses a wrong profile with a message naming the field', () => {
    expect(refused((p) => delete (p as Partial<HardwareProfile>).name)).toContain('(root).name');
    expect(refused((p) => (p.i2cBus = -1))).toContain('i2cBus');
    expect(refused((p) => (p.devices[0]!.address = 0x50))).toContain('devices[0].address');
    expect(refused((p) => (p.devices[3]!.address = 0x44))).toMatch(
      /devices\[3\]\.address .*already used by sht3x/,
    );
    expect(refused((p) => (p.devices[2]!.type = 'sht99' as never))).toContain('devices[2].type');
    expect(refused((p) => (p.devices[5]!.w1Id = '10-xyz'))).toContain('devices[5].w1Id');
    expect(refused((p) => (p.sensors[3]!.device = 'nowhere'))).toContain('sensors[3].device');
    expect(refused((p) => (p.sensors[0]!.channel = 'co2'))).toContain('sensors[0].channel');
    expect(refused((p) => (p.sensors[1]!.id = 'air_temperature'))).toContain('sensors[1].id');
    expect(refused((p) => (p.sensors[4]!.compensateWith = 'missing'))).toContain('sensors[4].compensateWith');
    expect(refused((p) => (p.sensors[0]!.intervalMs = 'fast' as never))).toContain('sensors[0].intervalMs');
    expect(refused((p) => (p.actuators[2]!.kind = 'dimmer'))).toContain('actuators[2].kind');
    expect(refused((p) => (p.actuators[0]!.output = 'ch16'))).toContain('actuators[0].output');
    expect(refused((p) => (p.actuators[2]!.output = 'gpb0'))).toMatch(/actuators\[2\]\.output .*water_level/);
    expect(refused((p) => (p.actuators = {} as never))).toContain('actuators must be an array');
  });

  it('makes createHal refuse a wrong profile before touching any hardware', async () => {
    const p = clone();
    p.sensors[0]!.unit = '';
    await expect(createHal({ mode: 'sim', profile: p })).rejects.toMatchObject({
      code: 'HAL_PROFILE_INVALID',
      message: expect.stringContaining('sensors[0].unit'),
    });
  });

  it('runs a custom profile with a BME280 and an ADS1115 analog probe in the simulation', async () => {
    const profile = parseProfile({
      name: 'bench-rig',
      i2cBus: 1,
      devices: [
        { name: 'bme', type: 'bme280', address: 0x76 },
        { name: 'adc', type: 'ads1115', address: 0x48 },
      ],
      sensors: [
        { id: 'air_pressure', device: 'bme', channel: 'pressure', unit: 'hPa', intervalMs: 5000 },
        // A level probe: 0.5 V empty .. 4.0 V full, as reservoir fill 0..1.
        {
          id: 'reservoir',
          device: 'adc',
          channel: 'ain2',
          unit: 'fraction',
          intervalMs: 5000,
          scale: 1 / 3.5,
          offset: -0.5 / 3.5,
          simulate: 'waterLevel',
        },
      ],
      actuators: [],
    });
    const hal = await createHal({ mode: 'sim', profile, timeScale: 1000 });
    try {
      hal.simulation!.setEnvironment({ airPressure: 1002, waterLevel: 0.6 });
      expect((await hal.read('air_pressure')).value).toBeCloseTo(1002, 0);
      // The reservoir refills while time runs, so the reading lies between the fill before and after it.
      const before = hal.simulation!.environment().waterLevel!;
      const level = await hal.read('reservoir');
      const after = hal.simulation!.environment().waterLevel!;
      expect(level.quality).toBe('ok');
      expect(level.value!).toBeGreaterThan(Math.min(before, after) - 0.005);
      expect(level.value!).toBeLessThan(Math.max(before, after) + 0.005);
    } finally {
      await hal.close();
    }
  });
});
