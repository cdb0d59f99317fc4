import { afterEach, describe, expect, it } from 'vitest';
import { createHal, type Hal } from '../index';

let hal: Hal | undefined;
afterEach(async () => {
  await hal?.close();
  hal = undefined;
});

async function sim(): Promise<Hal> {
  hal = await createHal({ mode: 'sim', timeScale: 1000, seed: 5 });
  return hal;
}

describe('output chip faults in the simulation', () => {
  it('brownout on pca9685: the light goes dark and reads back 0; a write fails its read-back once, then the re-initialised chip drives it', async () => {
    const h = await sim();
    expect(await h.setActuator('light', { level: 80 })).toEqual({ level: 80 });
    expect(h.simulation!.outputs().light).toBeCloseTo(0.8, 2);

    h.simulation!.injectFault('pca9685', 'brownout');
    expect(h.simulation!.outputs()).toMatchObject({ light: 0, fan: 0 });
    expect(await h.actuatorState('light')).toEqual({ level: 0 });

    // The chip sleeps after power-on: the LED registers take the write but drive nothing.
    await expect(h.setActuator('light', { level: 80 })).rejects.toMatchObject({ code: 'HAL_DEVICE_ERROR' });
    expect(await h.setActuator('light', { level: 80 })).toEqual({ level: 80 });
    expect(h.simulation!.outputs().light).toBeCloseTo(0.8, 2);
  });

  it('brownout on mcp23017: the pump relay drops, and the chip is re-initialised before it is driven again', async () => {
    const h = await sim();
    await h.setActuator('pump', { state: 'on' });
    expect(h.simulation!.outputs().pump).toBe(1);
    h.simulation!.injectFault('pump', 'brownout');
    expect(h.simulation!.outputs().pump).toBe(0);
    await expect(h.setActuator('pump', { state: 'off' })).rejects.toMatchObject({ code: 'HAL_DEVICE_ERROR' });
    expect(await h.setActuator('pump', { state: 'off' })).toEqual({ state: 'off' });
    expect(await h.actuatorState('pump')).toEqual({ state: 'off' });
  });

  it('readback-fail on mcp23017: the latch write lands (the pump runs) while the command fails', async () => {
    const h = await sim();
    await h.actuatorState('pump');
    h.simulation!.injectFault('pump', 'readback-fail');
    await expect(h.setActuator('pump', { state: 'on' })).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
    expect(h.simulation!.outputs().pump).toBe(1);
    await expect(h.actuatorState('pump')).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
    h.simulation!.clearFaults('pump');
    expect(await h.actuatorState('pump')).toEqual({ state: 'on' });
  });

  it('readback-fail on pca9685: the level lands while every read fails', async () => {
    const h = await sim();
    await h.actuatorState('light');
    h.simulation!.injectFault('pca9685', 'readback-fail');
    await expect(h.setActuator('light', { level: 50 })).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
    expect(h.simulation!.outputs().light).toBeCloseTo(0.5, 2);
  });

  it('brownout on a sensor chip is refused with a coded error', async () => {
    const h = await sim();
    expect(() => h.simulation!.injectFault('sht3x', 'brownout')).toThrow(
      expect.objectContaining({ code: 'HAL_BAD_COMMAND' }),
    );
  });
});
