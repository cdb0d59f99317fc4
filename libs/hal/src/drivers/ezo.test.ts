import type { Clock } from '../clock';
import { describe, expect, it } from 'vitest';
import { EzoModel } from '../sim/models/ezo-model';
import { simRig } from '../sim/sim-rig';

/** A clock that stands still: a device model never sees its conversion finish. */
const frozenClock: Clock = {
  now: () => 0,
  sleep: () => Promise.resolve(),
  timer: () => () => undefined,
  realPerClockMs: 1,
};

import { EZO_READ_MS, Ezo, parseEzoResponse } from './ezo';

function setup(kind: 'ph' | 'ec', clock?: Clock) {
  const rig = simRig({ seed: 6, ...(clock ? { clock } : {}) });
  rig.sim.attach(new EzoModel(kind, kind === 'ph' ? 0x63 : 0x64, rig, kind));
  return { rig, ezo: new Ezo(kind, kind, rig.bus, kind === 'ph' ? 0x63 : 0x64, rig.clock) };
}

const response = (code: number, text = '') =>
  Buffer.concat([Buffer.from([code]), Buffer.from(text), Buffer.alloc(4)]);

describe('Atlas EZO', () => {
  it('decodes the response codes 1, 2, 254 and 255', () => {
    expect(parseEzoResponse(response(1, '6.52'), 'ph')).toBe('6.52');
    expect(() => parseEzoResponse(response(2), 'ph')).toThrow(
      expect.objectContaining({ code: 'HAL_DEVICE_ERROR' }),
    );
    expect(() => parseEzoResponse(response(254), 'ph')).toThrow(
      expect.objectContaining({ code: 'HAL_DEVICE_BUSY' }),
    );
    expect(() => parseEzoResponse(response(255), 'ph')).toThrow(
      expect.objectContaining({ code: 'HAL_DEVICE_ERROR' }),
    );
  });

  it('answers "still processing" (254) when read before the ~900 ms of "R" have passed', async () => {
    const { rig } = setup('ph', frozenClock);
    await rig.bus.i2cWrite(0x63, 1, Buffer.from('R'));
    const buf = Buffer.alloc(8);
    await rig.bus.i2cRead(0x63, 8, buf);
    expect(buf[0]).toBe(254);
  });

  it('identifies the circuit and reads pH after honouring the read delay', async () => {
    const { rig, ezo } = setup('ph');
    rig.cabinet.setEnvironment({ ph: 5.8, waterTemperature: 25 });
    await ezo.init();
    const started = rig.clock.now();
    await ezo.setTemperature(25);
    expect(await ezo.read()).toBeCloseTo(5.8, 1);
    expect(rig.clock.now() - started).toBeGreaterThanOrEqual(EZO_READ_MS);
  });

  it('refuses an EC circuit where a pH circuit was expected', async () => {
    const rig = simRig();
    rig.sim.attach(new EzoModel('ec', 0x63, rig, 'ec'));
    await expect(new Ezo('ph', 'ph', rig.bus, 0x63, rig.clock).init()).rejects.toMatchObject({
      code: 'HAL_DEVICE_ERROR',
    });
  });

  it('compensates EC with the temperature it is told (T,n)', async () => {
    const { rig, ezo } = setup('ec');
    rig.cabinet.setEnvironment({ ec: 1500, waterTemperature: 15 });
    await ezo.init();
    await ezo.setTemperature(25); // wrong: the water is at 15 °C
    const uncompensated = await ezo.read();
    await ezo.setTemperature(15);
    const compensated = await ezo.read();
    expect(uncompensated).toBeLessThan(1400); // ~20 % low
    expect(compensated).toBeGreaterThan(1450);
    expect(compensated).toBeLessThan(1550);
  });

  it('turns a busy circuit into HAL_DEVICE_BUSY', async () => {
    const { rig, ezo } = setup('ph');
    rig.faults.inject('ph', 'busy');
    await expect(ezo.read()).rejects.toMatchObject({ code: 'HAL_DEVICE_BUSY' });
  });
});
