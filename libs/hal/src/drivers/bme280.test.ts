import { describe, expect, it } from 'vitest';
import { Bme280Model, SIM_BME280_TRIMMING } from '../sim/models/bme280-model';
import { simRig } from '../sim/sim-rig';
import {
  Bme280,
  BME280_MAX_STATUS_POLLS,
  BME280_STATUS,
  compensatePressure,
  compensateTemperature,
  STATUS_MEASURING,
} from './bme280';

describe('BME280', () => {
  it('compensates the datasheet example: T1=27504, T2=26435, T3=-1000, adc_T=519888 → 25.08 °C', () => {
    const t = compensateTemperature(519888, SIM_BME280_TRIMMING);
    expect(t.tFine).toBe(128422);
    expect(t.centiCelsius).toBe(2508);
  });

  it('compensates the example pressure: adc_P=415148 at t_fine 128422 → 100653.27 Pa', () => {
    expect(compensatePressure(415148, 128422, SIM_BME280_TRIMMING)).toBeCloseTo(100653.27, 1);
  });

  it('reads its trimming values from NVM and measures in forced mode', async () => {
    const rig = simRig({ seed: 5 });
    rig.sim.attach(new Bme280Model('bme', 0x76, rig));
    rig.cabinet.setEnvironment({ airTemperature: 24.3, airHumidity: 55, airPressure: 990 });
    const bme = new Bme280('bme', rig.bus, 0x76, rig.clock);
    await bme.init();
    const m = await bme.measure();
    expect(m.temperature).toBeCloseTo(24.3, 0);
    expect(m.pressure).toBeCloseTo(990, 0);
    expect(m.humidity).toBeCloseTo(55, -1);
  });

  it('refuses a device whose chip id is not 0x60', async () => {
    const rig = simRig();
    const model = new Bme280Model('bme', 0x77, rig);
    model.regs[0xd0] = 0x58; // a BMP280
    rig.sim.attach(model);
    await expect(new Bme280('bme', rig.bus, 0x77, rig.clock).init()).rejects.toMatchObject({
      code: 'HAL_DEVICE_ERROR',
      message: expect.stringContaining('not a BME280'),
    });
  });

  it('gives up on a measuring bit that never clears after a bounded number of status polls', async () => {
    const rig = simRig();
    rig.sim.attach(new Bme280Model('bme', 0x76, rig));
    let statusPolls = 0;
    const stuck = {
      ...rig.bus,
      readByte: async (address: number, register: number) => {
        if (register !== BME280_STATUS) return rig.bus.readByte(address, register);
        statusPolls++;
        return STATUS_MEASURING;
      },
    };
    const bme = new Bme280('bme', stuck, 0x76, rig.clock);
    await expect(bme.init()).resolves.toBeUndefined();
    statusPolls = 0;
    await expect(bme.measure()).rejects.toMatchObject({
      code: 'HAL_TIMEOUT',
      message: expect.stringContaining('measurement did not finish'),
    });
    expect(statusPolls).toBe(BME280_MAX_STATUS_POLLS + 1);
  });
});
