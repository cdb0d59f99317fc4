import { describe, expect, it } from 'vitest';
import { Bh1750Model } from '../sim/models/bh1750-model';
import { simRig } from '../sim/sim-rig';
import { Bh1750, bh1750Lux } from './bh1750';

describe('BH1750', () => {
  it('converts counts to lux as count / 1.2 (datasheet example: 0x83 0x90 → 28067 lx)', () => {
    expect(Math.round(bh1750Lux(0x8390))).toBe(28067);
  });

  it('measures the light at the canopy with a one-time H-resolution conversion', async () => {
    const rig = simRig({ seed: 2 });
    rig.sim.attach(new Bh1750Model('bh', 0x23, rig));
    rig.cabinet.setInput('light', 0.5);
    const bh = new Bh1750('bh', rig.bus, 0x23, rig.clock);
    await bh.init();
    expect(await bh.read()).toBeCloseTo(15_000, -2);
  });
});
