import type { Clock } from '../clock';
import { describe, expect, it } from 'vitest';
import { simRig } from '../sim/sim-rig';

/** A clock that stands still: a device model never sees its conversion finish. */
const frozenClock: Clock = {
  now: () => 0,
  sleep: () => Promise.resolve(),
  timer: () => () => undefined,
  realPerClockMs: 1,
};

import { Sht3xModel } from '../sim/models/sht3x-model';
import { Sht3x, sensirionWords, sht3xHumidity, sht3xTemperature } from './sht3x';

function setup(clock?: Clock) {
  const rig = simRig({ seed: 3, ...(clock ? { clock } : {}) });
  rig.sim.attach(new Sht3xModel('sht', 0x44, rig));
  return { rig, sht: new Sht3x('sht', rig.bus, 0x44, rig.clock) };
}

describe('SHT3x', () => {
  it('converts raw words as datasheet §4.13 says', () => {
    expect(sht3xTemperature(0)).toBe(-45);
    expect(sht3xTemperature(0xffff)).toBe(130);
    expect(sht3xTemperature(0x6666)).toBeCloseTo(25, 1);
    expect(sht3xHumidity(0x8000)).toBeCloseTo(50, 2);
  });

  it('checks each word against its CRC (0xBEEF → 0x92)', () => {
    expect(sensirionWords(Buffer.from([0xbe, 0xef, 0x92]), 'x')).toEqual([0xbeef]);
    expect(() => sensirionWords(Buffer.from([0xbe, 0xef, 0x93]), 'x')).toThrow(
      expect.objectContaining({ code: 'HAL_CRC' }),
    );
  });

  it('measures the simulated cabinet air through a single-shot command', async () => {
    const { rig, sht } = setup();
    rig.cabinet.setEnvironment({ airTemperature: 27.5, airHumidity: 65 });
    await sht.init();
    const m = await sht.measure();
    expect(m.temperature).toBeCloseTo(27.5, 0);
    expect(m.humidity).toBeCloseTo(65, -1);
  });

  it('is NACKed when read before the measurement is done (no clock stretching)', async () => {
    const { rig } = setup(frozenClock);
    await rig.bus.i2cWrite(0x44, 2, Buffer.from([0x24, 0x00]));
    await expect(rig.bus.i2cRead(0x44, 6, Buffer.alloc(6))).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
  });

  it('reports a corrupted CRC as HAL_CRC, never as a value', async () => {
    const { rig, sht } = setup();
    rig.faults.inject('sht', 'crc');
    await expect(sht.measure()).rejects.toMatchObject({ code: 'HAL_CRC' });
  });
});
