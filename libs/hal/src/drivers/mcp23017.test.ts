import { describe, expect, it } from 'vitest';
import { Mcp23017Model } from '../sim/models/mcp23017-model';
import { simRig } from '../sim/sim-rig';
import { GPPUA, IODIRA, Mcp23017, OLATA, pinNumber } from './mcp23017';

function setup(inputs: Record<number, number> = {}, activeLow: string[] = []) {
  const rig = simRig();
  const driven: Record<number, number> = {};
  const model = new Mcp23017Model(
    'io',
    0x20,
    rig,
    (pin) => inputs[pin] ?? 1,
    (pin, level) => (driven[pin] = level),
  );
  rig.sim.attach(model);
  return { model, driven, io: new Mcp23017('io', rig.bus, 0x20, ['gpa0', 'gpa1'], activeLow) };
}

describe('MCP23017', () => {
  it('names pins as the datasheet does: GPA0..GPB7 → 0..15', () => {
    expect(pinNumber('gpa0')).toBe(0);
    expect(pinNumber('GPB7')).toBe(15);
    expect(() => pinNumber('gpc1')).toThrow(expect.objectContaining({ code: 'HAL_BAD_COMMAND' }));
  });

  it('makes only the relay pins outputs, latched off', async () => {
    const { model, io } = setup();
    await io.init();
    expect(model.regs[IODIRA]).toBe(0xfc);
    expect(model.regs[IODIRA + 1]).toBe(0xff);
    expect(model.regs[OLATA]).toBe(0x00);
  });

  it('drives a relay and reads the pin level back from GPIO', async () => {
    const { io, driven } = setup();
    await io.init();
    await io.write('gpa1', 1);
    expect(await io.readBack('gpa1')).toBe(1);
    expect(await io.readBack('gpa0')).toBe(0);
    expect(driven[1]).toBe(1);
    await io.write('gpa1', 0);
    expect(await io.readBack('gpa1')).toBe(0);
  });

  it('reads a float switch on an input pin', async () => {
    const inputs: Record<number, number> = { 8: 0 };
    const { io } = setup(inputs);
    await io.init();
    expect(await io.read('gpb0')).toBe(0);
    inputs[8] = 1;
    expect(await io.read('gpb0')).toBe(1);
    await expect(io.write('gpb0', 1)).rejects.toMatchObject({ code: 'HAL_BAD_COMMAND' });
  });

  it('reads an active-low input inverted: contact closed to ground (pin low) is 1, a cut wire is 0', async () => {
    const inputs: Record<number, number> = { 8: 0 };
    const { io } = setup(inputs, ['gpb0']);
    await io.init();
    expect(await io.read('gpb0')).toBe(1);
    inputs[8] = 1; // pulled up: contact open or wire cut
    expect(await io.read('gpb0')).toBe(0);
  });

  it('supervises an input: a lost pull-up (power glitch) is an error until init restores it', async () => {
    const { io, model } = setup({ 8: 0 }, ['gpb0']);
    await io.init();
    model.regs[GPPUA + 1] = 0x00; // power-on value: no pull-ups, the pin floats
    await expect(io.read('gpb0')).rejects.toMatchObject({
      code: 'HAL_DEVICE_ERROR',
      message: expect.stringContaining('lost its configuration'),
    });
    await io.init();
    expect(await io.read('gpb0')).toBe(1);
  });
});
