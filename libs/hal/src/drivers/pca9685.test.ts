import { describe, expect, it } from 'vitest';
import { Pca9685Model } from '../sim/models/pca9685-model';
import { simRig } from '../sim/sim-rig';
import {
  MODE1_SLEEP,
  PCA9685_MODE1,
  PCA9685_PRE_SCALE,
  Pca9685,
  pca9685Duty,
  pca9685Prescale,
} from './pca9685';

function setup() {
  const rig = simRig();
  const outputs: number[] = [];
  const model = new Pca9685Model('pwm', 0x40, rig, (ch, duty) => (outputs[ch] = duty));
  rig.sim.attach(model);
  return { rig, model, outputs, pwm: new Pca9685('pwm', rig.bus, 0x40, rig.clock, 200) };
}

describe('PCA9685', () => {
  it('computes the datasheet prescale: 200 Hz → 30 (0x1E)', () => {
    expect(pca9685Prescale(200)).toBe(0x1e);
    expect(pca9685Prescale(1526)).toBe(0x03);
  });

  it('decodes the datasheet example: ON=409 (0x199), OFF=1228 (0x4CC) → 20 % duty', () => {
    expect(pca9685Duty(Buffer.from([0x99, 0x01, 0xcc, 0x04]))).toBeCloseTo(0.2, 3);
  });

  it('writes PRE_SCALE only while asleep, then wakes with auto-increment', async () => {
    const { rig, model, pwm } = setup();
    await rig.bus.writeByte(0x40, PCA9685_MODE1, 0x00); // awake
    await rig.bus.writeByte(0x40, PCA9685_PRE_SCALE, 0x05);
    expect(model.regs[PCA9685_PRE_SCALE]).toBe(0x1e); // ignored while awake
    await pwm.init();
    expect(model.regs[PCA9685_PRE_SCALE]).toBe(pca9685Prescale(200));
    expect(model.regs[PCA9685_MODE1]! & MODE1_SLEEP).toBe(0);
  });

  it('reads every duty level back from the LED registers, including full on and full off', async () => {
    const { pwm, outputs } = setup();
    await pwm.init();
    for (const level of [0, 0.25, 0.4, 1]) {
      await pwm.write('ch3', level);
      expect(await pwm.readBack('ch3')).toBeCloseTo(level, 3);
      expect(outputs[3]).toBeCloseTo(level, 3);
    }
  });

  it('tells the cabinet of each output that changes, once, and of nothing on a read', async () => {
    const rig = simRig();
    const told: [number, number][] = [];
    rig.sim.attach(new Pca9685Model('pwm', 0x40, rig, (ch, duty) => told.push([ch, duty])));
    const pwm = new Pca9685('pwm', rig.bus, 0x40, rig.clock, 200);
    await pwm.init();
    expect(told).toHaveLength(16); // the first register write tells every channel
    told.length = 0;
    await pwm.write('ch3', 0.5);
    expect(told).toEqual([[3, 0.5]]);
    await pwm.readBack('ch3');
    await pwm.write('ch3', 0.5);
    expect(told).toEqual([[3, 0.5]]);
    await pwm.write('ch3', 0);
    expect(told).toEqual([
      [3, 0.5],
      [3, 0],
    ]);
  });

  it('shows outputs off while the oscillator sleeps', async () => {
    const { rig, pwm } = setup();
    await pwm.init();
    await pwm.write('ch0', 0.5);
    await rig.bus.writeByte(0x40, PCA9685_MODE1, MODE1_SLEEP);
    expect(await pwm.readBack('ch0')).toBe(0);
  });
});
