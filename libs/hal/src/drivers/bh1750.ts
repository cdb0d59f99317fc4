import type { Clock } from '../clock';
import type { I2cBus } from '../bus/i2c-bus';
import type { SensorDriver } from './driver';

// BH1750FVI datasheet, "Instruction Set Architecture".
export const BH1750_POWER_DOWN = 0x00;
export const BH1750_POWER_ON = 0x01;
export const BH1750_RESET = 0x07;
export const BH1750_ONE_TIME_H_RESOLUTION = 0x20;
/** "Measurement sequence": H-resolution mode max 180 ms. */
export const BH1750_H_RESOLUTION_MS = 180;

/** "Measurement sequence example": lux = count / 1.2 (MTreg default 69). */
export function bh1750Lux(count: number): number {
  return count / 1.2;
}

export class Bh1750 implements SensorDriver {
  readonly channels = ['illuminance'] as const;

  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
  ) {}

  async init(): Promise<void> {
    await this.bus.sendByte(this.address, BH1750_POWER_ON);
  }

  async reset(): Promise<void> {
    // Reset only clears the data register and needs power on first.
    await this.bus.sendByte(this.address, BH1750_POWER_ON);
    await this.bus.sendByte(this.address, BH1750_RESET);
  }

  async read(): Promise<number> {
    await this.bus.sendByte(this.address, BH1750_ONE_TIME_H_RESOLUTION);
    await this.clock.sleep(BH1750_H_RESOLUTION_MS);
    const buf = Buffer.alloc(2);
    await this.bus.i2cRead(this.address, 2, buf);
    return bh1750Lux(buf.readUInt16BE(0)); // high byte first
  }
}
