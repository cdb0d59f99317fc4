import { describe, expect, it } from 'vitest';
import { createHal } from '../hal';
import type { Hal } from '../types';
import { ezoCalibrationText, parseEzoCalibration } from './probe-calibration';

async function sim(): Promise<Hal> {
  return createHal({ mode: 'sim', seed: 3, timeScale: 200 });
}

const mean = async (hal: Hal, id: string, n = 3) => {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (await hal.read(id)).value!;
  return sum / n;
};

describe('probe calibration commands', () => {
  it('spells the EZO steps as the datasheets do', () => {
    expect(ezoCalibrationText('ph', { action: 'mid', value: 7 })).toBe('Cal,mid,7.00');
    expect(ezoCalibrationText('ph', { action: 'low', value: 4 })).toBe('Cal,low,4.00');
    expect(ezoCalibrationText('ph', { action: 'high', value: 10 })).toBe('Cal,high,10.00');
    expect(ezoCalibrationText('ph', { action: 'clear' })).toBe('Cal,clear');
    expect(ezoCalibrationText('ec', { action: 'dry' })).toBe('Cal,dry');
    expect(ezoCalibrationText('ec', { action: 'single', value: 1413 })).toBe('Cal,1413');
    expect(ezoCalibrationText('ec', { action: 'low', value: 12880 })).toBe('Cal,low,12880');
    expect(parseEzoCalibration('?CAL,2', 'ph')).toBe(2);
  });

  it('refuses a step the circuit lacks or a missing reference with HAL_BAD_COMMAND', () => {
    expect(() => ezoCalibrationText('ph', { action: 'dry' })).toThrow(/no "dry"/);
    expect(() => ezoCalibrationText('ph', { action: 'mid' })).toThrow(
      expect.objectContaining({ code: 'HAL_BAD_COMMAND' }),
    );
    expect(() => ezoCalibrationText('ec', { action: 'single', value: -5 })).toThrow(/µS/);
  });
});

describe('calibration through the HAL on simulated probes', () => {
  it('lists the steps each sensor takes', async () => {
    const hal = await sim();
    const by = Object.fromEntries(hal.sensors().map((s) => [s.id, s.calibration]));
    expect(by['ph']).toEqual(['mid', 'low', 'high', 'clear']);
    expect(by['ec']).toEqual(['dry', 'single', 'low', 'high', 'clear']);
    expect(by['co2']).toEqual(['forced']);
    expect(by['air_temperature']).toBeUndefined();
    await hal.close();
  });

  it('pH: mid, low and high change the reading and the Cal,? count; clear undoes them', async () => {
    const hal = await sim();
    const env = hal.simulation!;
    env.setEnvironment({ ph: 6.6, waterTemperature: 25 });
    expect(await hal.deviceCalibration('ph')).toEqual({ points: 0 });
    expect(await mean(hal, 'ph')).toBeCloseTo(6.6, 1);
    // The probe "sits in" a pH 7 buffer that it reads as 6.6: mid shifts it by +0.4.
    expect(await hal.calibrate('ph', { action: 'mid', value: 7 })).toEqual({ points: 1 });
    expect(await mean(hal, 'ph')).toBeCloseTo(7, 1);
    env.setEnvironment({ ph: 3.8 }); // a pH 4 buffer, read 0.2 low after the offset: slope (4-7)/(3.8-6.6)
    expect(await hal.calibrate('ph', { action: 'low', value: 4 })).toEqual({ points: 2 });
    expect(await mean(hal, 'ph')).toBeCloseTo(4, 1);
    env.setEnvironment({ ph: 5.2 });
    expect(await mean(hal, 'ph')).toBeCloseTo(7 + ((5.2 - 6.6) * 3) / 2.8, 1);
    env.setEnvironment({ ph: 9.6 });
    expect(await hal.calibrate('ph', { action: 'high', value: 10 })).toEqual({ points: 3 });
    expect(await mean(hal, 'ph')).toBeCloseTo(10, 1);
    expect(await hal.calibrate('ph', { action: 'clear' })).toEqual({ points: 0 });
    expect(await mean(hal, 'ph')).toBeCloseTo(9.6, 1);
    await hal.close();
  });

  it('pH: the circuit refuses low before mid, and low in the mid buffer, leaving the count as it was', async () => {
    const hal = await sim();
    await expect(hal.calibrate('ph', { action: 'low', value: 4 })).rejects.toMatchObject({
      code: 'HAL_BAD_COMMAND',
      message: expect.stringContaining('refused "Cal,low,4.00"'),
    });
    await hal.calibrate('ph', { action: 'mid', value: 7 });
    await expect(hal.calibrate('ph', { action: 'low', value: 4 })).rejects.toMatchObject({
      code: 'HAL_BAD_COMMAND',
    });
    expect(await hal.deviceCalibration('ph')).toEqual({ points: 1 });
    // A refusal is the request's fault, not the device's: it stays in service.
    expect(hal.health().devices['ezo-ph']!.state).toBe('ok');
    await hal.close();
  });

  it('EC: dry sets the zero, a single point the gain; low then high make two points', async () => {
    const hal = await sim();
    const env = hal.simulation!;
    env.setEnvironment({ ec: 0, waterTemperature: 25 });
    expect(await hal.calibrate('ec', { action: 'dry' })).toEqual({ points: 0 });
    env.setEnvironment({ ec: 1300 });
    expect(await hal.calibrate('ec', { action: 'single', value: 1413 })).toEqual({ points: 1 });
    expect(await mean(hal, 'ec')).toBeGreaterThan(1390);
    env.setEnvironment({ ec: 650 });
    expect(await mean(hal, 'ec')).toBeCloseTo(706, -1.5);
    env.setEnvironment({ ec: 1100 });
    expect(await hal.calibrate('ec', { action: 'low', value: 1000 })).toEqual({ points: 1 });
    env.setEnvironment({ ec: 3000 });
    expect(await hal.calibrate('ec', { action: 'high', value: 2800 })).toEqual({ points: 2 });
    expect(await mean(hal, 'ec')).toBeCloseTo(2800, -1.5);
    expect(await hal.calibrate('ec', { action: 'clear' })).toEqual({ points: 0 });
    await hal.close();
  });

  it('CO2: forced recalibration makes the SCD4x read the reference and reports the correction', async () => {
    const hal = await sim();
    hal.simulation!.setEnvironment({ co2: 800, ambientCo2: 800 });
    const before = await hal.read('co2');
    expect(before.value!).toBeGreaterThan(700);
    const result = await hal.calibrate('co2', { action: 'forced', value: 400 });
    expect(result.points).toBeNull();
    expect(result.correction!).toBeLessThan(-300);
    expect(result.correction!).toBeGreaterThan(-500);
    const after = await hal.read('co2');
    expect(after.quality).toBe('ok');
    expect(after.value!).toBeGreaterThan(340);
    expect(after.value!).toBeLessThan(460);
    await expect(hal.calibrate('co2', { action: 'forced', value: 50 })).rejects.toMatchObject({
      code: 'HAL_BAD_COMMAND',
    });
    await hal.close();
  });

  it('refuses calibration of a sensor without it, and of an unplugged probe with a device error', async () => {
    const hal = await sim();
    await expect(hal.calibrate('air_temperature', { action: 'mid', value: 7 })).rejects.toMatchObject({
      code: 'HAL_BAD_COMMAND',
    });
    await expect(hal.calibrate('ph', { action: 'dry' })).rejects.toMatchObject({ code: 'HAL_BAD_COMMAND' });
    await expect(hal.calibrate('nope', { action: 'dry' })).rejects.toMatchObject({
      code: 'HAL_UNKNOWN_SENSOR',
    });
    hal.simulation!.injectFault('ph', 'unplugged');
    await expect(hal.calibrate('ph', { action: 'mid', value: 7 })).rejects.toMatchObject({
      code: expect.stringMatching(/HAL_I2C_NACK|HAL_I2C_IO|HAL_CIRCUIT_OPEN/),
    });
    await hal.close();
  });
});
