import { afterEach, describe, expect, it } from 'vitest';
import { createHal, type Hal, type Reading } from './index';

let hal: Hal | undefined;
afterEach(async () => {
  await hal?.close();
  hal = undefined;
});

async function sim(timeScale = 1000): Promise<Hal> {
  hal = await createHal({ mode: 'sim', timeScale, seed: 11 });
  return hal;
}

function failed(r: Reading, quality: Reading['quality']) {
  expect(r.quality).toBe(quality);
  expect(r.value).toBeNull();
  expect(r.error).toBeTypeOf('string');
}

describe('injected faults end in the right quality, and the device recovers', () => {
  it('NACK (EREMOTEIO): unavailable with the address and bus named, then ok after a soft reset and re-init', async () => {
    const h = await sim();
    expect((await h.read('air_temperature')).quality).toBe('ok');
    h.simulation!.injectFault('air_temperature', 'nack');
    const r = await h.read('air_temperature');
    failed(r, 'unavailable');
    expect(r.error).toBe('no acknowledge from device at 0x44 on /dev/i2c-1');
    expect(h.health().devices.sht3x).toMatchObject({ state: 'degraded', errors: 1, retries: 2 });
    h.simulation!.clearFaults('air_temperature');
    expect((await h.read('air_temperature')).quality).toBe('ok');
    expect(h.health().devices.sht3x).toMatchObject({ state: 'ok', recoveries: 1 });
  });

  it('CRC corruption: crc, then ok', async () => {
    const h = await sim();
    h.simulation!.injectFault('co2', 'crc');
    failed(await h.read('co2'), 'crc');
    h.simulation!.clearFaults('co2');
    expect((await h.read('co2')).quality).toBe('ok');
  });

  it('a stuck value: stale with the frozen value and its true age, then ok once it moves again', async () => {
    const h = await sim(100_000); // 10 simulated minutes pass in a few real milliseconds
    const first = await h.read('air_temperature');
    h.simulation!.injectFault('sht3x', 'stuck');
    let r = await h.read('air_temperature');
    for (let i = 0; i < 200 && r.quality !== 'stale'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      r = await h.read('air_temperature');
    }
    expect(r.quality).toBe('stale');
    expect(r.value).toBeTypeOf('number');
    expect(r.value).toBe(first.value); // frozen at the last value it gave
    expect(r.ageMs).toBeGreaterThanOrEqual(6); // 10 min at ×100000
    h.simulation!.clearFaults('sht3x');
    expect((await h.read('air_temperature')).quality).toBe('ok');
  });

  it('a slow device: timeout, then ok', async () => {
    const h = await sim();
    h.simulation!.injectFault('light_intensity', 'slow');
    const r = await h.read('light_intensity');
    failed(r, 'timeout');
    expect(h.health().buses['i2c-1']!.timeouts).toBeGreaterThan(0);
    h.simulation!.clearFaults();
    // The bus stays held until the slow transactions really end; then the sensor is back.
    let r2 = await h.read('light_intensity');
    for (let i = 0; i < 100 && r2.quality !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      r2 = await h.read('light_intensity');
    }
    expect(r2.quality).toBe('ok');
  });

  it('a busy EZO circuit (code 254): timeout, then ok', async () => {
    const h = await sim();
    h.simulation!.injectFault('ph', 'busy');
    failed(await h.read('ph'), 'timeout');
    h.simulation!.clearFaults('ph');
    expect((await h.read('ph')).quality).toBe('ok');
  });

  it('an unplugged sensor: unavailable, the circuit opens, and it is back after the open period', async () => {
    // ×100: the 30 s open period is 300 ms of real time, long enough that a loaded machine still
    // sees the refusal before it ends.
    const h = await sim(100);
    h.simulation!.injectFault('ec', 'unplugged');
    for (let i = 0; i < 3; i++) failed(await h.read('ec'), 'unavailable');
    expect(h.health().devices['ezo-ec']!.state).toBe('open');
    const refused = await h.read('ec');
    failed(refused, 'unavailable');
    expect(refused.error).toContain('out of service');
    h.simulation!.clearFaults('ec');
    let r = await h.read('ec');
    for (let i = 0; i < 200 && r.quality !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5)); // the open period passes in real time
      r = await h.read('ec');
    }
    expect(r.quality).toBe('ok');
    expect(h.health().devices['ezo-ec']).toMatchObject({ state: 'ok', recoveries: 1 });
    // Other devices never noticed.
    expect((await h.read('ph')).quality).toBe('ok');
  });

  it('the DS18B20 85 °C power-on value: range, never 85', async () => {
    const h = await sim();
    h.simulation!.injectFault('water_temperature', 'power-on-85');
    failed(await h.read('water_temperature'), 'range');
    h.simulation!.clearFaults();
    expect((await h.read('water_temperature')).quality).toBe('ok');
  });

  it('an empty 1-Wire read: unavailable, then ok', async () => {
    const h = await sim();
    h.simulation!.injectFault('water_temperature', 'empty-read');
    const r = await h.read('water_temperature');
    failed(r, 'unavailable');
    expect(r.error).toContain('empty 1-Wire read');
    h.simulation!.clearFaults();
    expect((await h.read('water_temperature')).quality).toBe('ok');
  });

  it('a 1-Wire CRC error: crc; an unplugged probe: unavailable', async () => {
    const h = await sim();
    h.simulation!.injectFault('ds18b20', 'crc');
    failed(await h.read('water_temperature'), 'crc');
    h.simulation!.clearFaults();
    h.simulation!.injectFault('ds18b20', 'unplugged');
    const r = await h.read('water_temperature');
    failed(r, 'unavailable');
    expect(r.error).toContain('28-00000a1b2c3d');
  });

  it('a value outside the sensor range: range with no number', async () => {
    const h = await sim();
    h.simulation!.setEnvironment({ airTemperature: 75 });
    const r = await h.read('air_temperature');
    failed(r, 'range');
    expect(r.error).toContain('outside -10..60');
  });

  it('an actuator whose expander is unplugged refuses the command with a coded error', async () => {
    const h = await sim();
    h.simulation!.injectFault('pump', 'unplugged');
    await expect(h.setActuator('pump', { state: 'on' })).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
    h.simulation!.clearFaults('pump');
    expect(await h.setActuator('pump', { state: 'on' })).toEqual({ state: 'on' });
  });

  it('a recovered expander keeps its relays as they were (re-init does not switch the pump)', async () => {
    const h = await sim();
    await h.setActuator('pump', { state: 'on' });
    h.simulation!.injectFault('mcp23017', 'nack');
    failed(await h.read('water_level'), 'unavailable');
    h.simulation!.clearFaults('mcp23017');
    expect((await h.read('water_level')).quality).toBe('ok');
    expect(h.health().devices.mcp23017!.recoveries).toBe(1);
    expect(await h.actuatorState('pump')).toEqual({ state: 'on' });
  });

  it('refuses unknown fault targets and kinds', async () => {
    const h = await sim();
    expect(() => h.simulation!.injectFault('moon', 'nack')).toThrow(/moon/);
    expect(() => h.simulation!.injectFault('ph', 'gremlins' as never)).toThrow(/unknown fault gremlins/);
  });
});

describe('the simulated cabinet through the HAL', () => {
  it('warms up under the light, and the float switch drops while the pump drains the reservoir', async () => {
    const h = await sim(100_000);
    const before = await h.read('air_temperature');
    await h.setActuator('light', { level: 100 });
    await h.setActuator('pump', { state: 'on' });
    let level = await h.read('water_level');
    for (let i = 0; i < 200 && level.value !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      level = await h.read('water_level');
    }
    expect(level).toMatchObject({ value: 0, quality: 'ok', unit: 'bool' });
    expect((await h.read('air_temperature')).value!).toBeGreaterThan(before.value! + 1);
    expect((await h.read('light_intensity')).value!).toBeGreaterThan(20_000);
  });

  it('tells the EZO circuits the water temperature for compensation', async () => {
    const h = await sim();
    h.simulation!.setEnvironment({ waterTemperature: 12, ec: 1500 });
    const ec = await h.read('ec');
    expect(ec.quality).toBe('ok');
    // Uncompensated (told 25 °C) it would read ~26 % low, about 1110 µS/cm; the water warms a little meanwhile.
    expect(Math.abs(ec.value! - 1500)).toBeLessThan(100);
  });
});
