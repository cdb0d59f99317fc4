import { describe, expect, it } from 'vitest';
import { steppedClock } from '../clock';
import { Scd4xModel } from '../sim/models/scd4x-model';
import { simRig } from '../sim/sim-rig';
import { Scd4x, scd4xConvert, SCD4X_MEASUREMENT_INTERVAL_MS } from './scd4x';

function setup() {
  // Time moves only with the driver's waits: the 5 s period is not a few ms of real time under load.
  const rig = simRig({ seed: 4, clock: steppedClock() });
  rig.sim.attach(new Scd4xModel('scd', 0x62, rig));
  return { rig, scd: new Scd4x('scd', rig.bus, 0x62, rig.clock) };
}

describe('SCD4x', () => {
  it('converts read_measurement words as datasheet §3.5.2 says', () => {
    // Datasheet example: 0x01f4 → 500 ppm, 0x6667 → 25 °C, 0x5eb9 → 37 %RH.
    const m = scd4xConvert([0x01f4, 0x6667, 0x5eb9]);
    expect(m.co2).toBe(500);
    expect(m.temperature).toBeCloseTo(25, 1);
    expect(m.humidity).toBeCloseTo(37, 1);
  });

  it('is not ready until the first 5 s period of periodic measurement has passed', async () => {
    const { rig, scd } = setup();
    await scd.init();
    expect(await scd.dataReady()).toBe(false);
    await rig.clock.sleep(SCD4X_MEASUREMENT_INTERVAL_MS);
    expect(await scd.dataReady()).toBe(true);
  });

  it('waits for data-ready, then reads CO2 with per-word CRCs', async () => {
    const { rig, scd } = setup();
    rig.cabinet.setEnvironment({ co2: 1200 });
    await scd.init();
    const started = rig.clock.now();
    const m = await scd.measure();
    expect(rig.clock.now() - started).toBeGreaterThanOrEqual(SCD4X_MEASUREMENT_INTERVAL_MS);
    // The cabinet keeps exchanging air while the sensor measures: compare with its CO2 of now.
    expect(Math.abs(m.co2 - rig.cabinet.environment().co2)).toBeLessThan(50);
    // Within the same period the last measurement is returned, with its age.
    await scd.measure();
    expect(scd.ageMs()).toBeLessThanOrEqual(SCD4X_MEASUREMENT_INTERVAL_MS);
  });

  it('refuses commands that are illegal during periodic measurement with a NACK', async () => {
    const { rig, scd } = setup();
    await scd.init();
    await expect(rig.bus.i2cWrite(0x62, 2, Buffer.from([0x36, 0x46]))).rejects.toMatchObject({
      code: 'HAL_I2C_NACK',
    });
  });

  it('reports a corrupted word CRC as HAL_CRC', async () => {
    const { rig, scd } = setup();
    await scd.init();
    rig.faults.inject('scd', 'crc');
    await expect(scd.measure()).rejects.toMatchObject({ code: 'HAL_CRC' });
  });
});
