import {
  BH1750_ONE_TIME_H_RESOLUTION,
  BH1750_POWER_DOWN,
  BH1750_POWER_ON,
  BH1750_RESET,
} from '../../drivers/bh1750';
import { SimDevice } from './sim-device';

/** BH1750FVI: one-time H-resolution measurement, 120 ms typical, then back to power down. */
export class Bh1750Model extends SimDevice {
  private powered = false;
  private count = 0;
  private previous = 0;
  private readyAt = 0;

  write(data: Buffer): void {
    const op = data[0];
    if (op === BH1750_POWER_ON) this.powered = true;
    else if (op === BH1750_POWER_DOWN) this.powered = false;
    else if (op === BH1750_RESET) {
      if (this.powered) this.count = 0;
    } else if (op === BH1750_ONE_TIME_H_RESOLUTION) {
      this.powered = true;
      const lux = this.sample('lux', () => Math.max(0, this.ctx.cabinet.measure('lightIntensity', 2)));
      this.previous = this.count;
      this.count = Math.min(0xffff, Math.round(lux * 1.2));
      this.readyAt = this.ctx.clock.now() + 120;
    } else this.nack();
  }

  read(length: number): Buffer {
    // Before the conversion ends the data register still holds the previous result.
    const out = Buffer.alloc(length);
    out.writeUInt16BE(this.ctx.clock.now() >= this.readyAt ? this.count : this.previous, 0);
    return out;
  }
}
