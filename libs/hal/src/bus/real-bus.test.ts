import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openRealBus, toBusError } from './real-bus';

// This machine has no I2C adapter, so bus 1 is the real missing-bus case; bus 97 never exists.
const missingBus = existsSync('/dev/i2c-1') ? 97 : 1;

describe('the real bus through i2c-bus', () => {
  it(`turns the ENOENT of a missing /dev/i2c-${missingBus} into HAL_I2C_BUS_MISSING naming the bus`, async () => {
    const bus = await openRealBus(missingBus);
    await expect(bus.readByte(0x44, 0)).rejects.toMatchObject({
      name: 'HalError',
      code: 'HAL_I2C_BUS_MISSING',
      message: expect.stringContaining(`/dev/i2c-${missingBus}`),
    });
    await bus.close().catch(() => undefined);
  });

  it('maps the kernel errnos of a device to coded errors with the address', () => {
    const nack = toBusError(Object.assign(new Error('Remote I/O error'), { code: 'EREMOTEIO' }), 1, 0x44);
    expect(nack).toMatchObject({
      code: 'HAL_I2C_NACK',
      message: 'no acknowledge from device at 0x44 on /dev/i2c-1',
    });
    expect(toBusError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), 1, 0x62).code).toBe(
      'HAL_TIMEOUT',
    );
    expect(toBusError(Object.assign(new Error('x'), { code: 'EIO' }), 1, 0x62).code).toBe('HAL_I2C_IO');
  });
});
