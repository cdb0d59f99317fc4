import { ADS1115_CONFIG, ADS1115_CONVERSION, CONFIG_OS, DATA_RATES, PGA_FSR } from '../../drivers/ads1115';
import type { SimContext } from './sim-device';
import { SimDevice } from './sim-device';

/** ADS1115: pointer register, 16-bit MSB-first registers, single-shot conversions (§9.4, §9.6). */
export class Ads1115Model extends SimDevice {
  private pointer = ADS1115_CONVERSION;
  private config = 0x8583; // §9.6.3 reset value
  private conversion = 0;
  private readyAt = 0;
  private pendingCode = 0;

  constructor(
    name: string,
    address: number,
    ctx: SimContext,
    /** Input voltage of AINn against GND. */
    private readonly input: (channel: number) => number,
  ) {
    super(name, address, ctx);
  }

  private settle(): void {
    if (this.readyAt !== 0 && this.ctx.clock.now() >= this.readyAt) {
      this.conversion = this.pendingCode;
      this.readyAt = 0;
      this.config |= CONFIG_OS;
    }
  }

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.pointer = data[0]! & 0x03;
    if (data.length < 3) return;
    const value = data.readUInt16BE(1);
    if (this.pointer !== ADS1115_CONFIG) return;
    this.settle();
    this.config = value & ~CONFIG_OS;
    if (value & CONFIG_OS) {
      const mux = (value >> 12) & 0x07;
      const pga = Math.min(5, (value >> 9) & 0x07);
      const rate = DATA_RATES[(value >> 5) & 0x07]!;
      const volts = mux >= 4 ? this.sample(`ain${mux - 4}`, () => this.input(mux - 4)) : 0;
      this.pendingCode = Math.max(-32768, Math.min(32767, Math.round((volts / PGA_FSR[pga]!) * 32768)));
      this.readyAt = this.ctx.clock.now() + 1000 / rate;
    } else {
      this.config |= CONFIG_OS;
    }
  }

  read(length: number): Buffer {
    this.settle();
    const out = Buffer.alloc(length);
    const value =
      this.pointer === ADS1115_CONFIG
        ? this.config
        : this.pointer === ADS1115_CONVERSION
          ? this.conversion
          : 0;
    out.writeUInt16BE(value & 0xffff, 0);
    return out;
  }
}
