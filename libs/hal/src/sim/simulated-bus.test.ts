import { describe, expect, it } from 'vitest';
import { Mcp23017Model } from './models/mcp23017-model';
import { Pca9685Model } from './models/pca9685-model';
import { simRig } from './sim-rig';

describe('simulated bus', () => {
  it('scans the attached devices, leaving out an unplugged one', async () => {
    const rig = simRig();
    rig.sim.attach(new Pca9685Model('pwm', 0x40, rig));
    rig.sim.attach(new Mcp23017Model('io', 0x20, rig, () => 1));
    expect(await rig.bus.scan()).toEqual([0x20, 0x40]);
    rig.faults.inject('io', 'unplugged');
    expect(await rig.bus.scan()).toEqual([0x40]);
    await expect(rig.bus.readByte(0x20, 0)).rejects.toMatchObject({ code: 'HAL_I2C_NACK' });
  });

  it('puts SMBus words on the wire low byte first, as i2c-bus does', async () => {
    const rig = simRig();
    const io = new Mcp23017Model('io', 0x20, rig, () => 1);
    rig.sim.attach(io);
    await rig.bus.writeWord(0x20, 0x14, 0xa55a); // OLATA, OLATB
    expect([io.regs[0x14], io.regs[0x15]]).toEqual([0x5a, 0xa5]);
    expect(await rig.bus.readWord(0x20, 0x14)).toBe(0xa55a);
    expect(await rig.bus.readByte(0x20, 0x15)).toBe(0xa5);
  });

  it('answers a missing address with EREMOTEIO, mapped to a NACK naming the address', async () => {
    const rig = simRig();
    await expect(rig.bus.receiveByte(0x33)).rejects.toMatchObject({
      code: 'HAL_I2C_NACK',
      message: 'no acknowledge from device at 0x33 on /dev/i2c-1',
    });
  });
});
