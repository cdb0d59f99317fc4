import { describe, expect, it } from 'vitest';
import { Ads1115Model } from '../sim/models/ads1115-model';
import { simRig } from '../sim/sim-rig';
import { Ads1115, ads1115Config, ads1115Volts } from './ads1115';

describe('ADS1115', () => {
  it('builds the config word: OS, MUX AIN0/GND, PGA ±4.096 V, single-shot, 128 SPS, comparator off', () => {
    expect(ads1115Config(0, 1, 4)).toBe(0xc383);
    expect(ads1115Config(3, 2, 7)).toBe(0xf5e3);
  });

  it('scales codes by the full-scale range: 0x7FFF at ±4.096 V is 4.096 V less one LSB', () => {
    expect(ads1115Volts(0x7fff, 1)).toBeCloseTo(4.096 - 4.096 / 32768, 6);
    expect(ads1115Volts(-32768, 2)).toBe(-2.048);
  });

  it('converts each input once, MSB first, after the data-rate period', async () => {
    const rig = simRig();
    const volts = [0.5, 1.25, 2.0, 3.3];
    rig.sim.attach(new Ads1115Model('adc', 0x48, rig, (n) => volts[n]!));
    const adc = new Ads1115('adc', rig.bus, 0x48, rig.clock);
    await adc.init();
    for (const [n, v] of volts.entries()) expect(await adc.read(`ain${n}`)).toBeCloseTo(v, 3);
  });
});
