import type { Clock } from '../clock';
import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import type { OutputDriver } from './driver';

// PCA9685 datasheet §7.3 register map.
export const PCA9685_MODE1 = 0x00;
export const PCA9685_MODE2 = 0x01;
export const PCA9685_LED0_ON_L = 0x06;
export const PCA9685_PRE_SCALE = 0xfe;
// §7.3.1 MODE1 bits.
export const MODE1_RESTART = 0x80;
export const MODE1_AI = 0x20;
export const MODE1_SLEEP = 0x10;
export const MODE1_ALLCALL = 0x01;
// §7.3.3: bit 4 of LEDn_ON_H / LEDn_OFF_H is "full on" / "full off".
export const LED_FULL = 0x10;
/** §7.3.2 SWRST: general call address 0x00 with data 0x06. */
export const PCA9685_SWRST = 0x06;
export const PCA9685_OSC_HZ = 25_000_000;

/** §7.3.5: prescale = round(osc_clock / (4096 * update_rate)) - 1. */
export function pca9685Prescale(frequencyHz: number): number {
  return Math.round(PCA9685_OSC_HZ / (4096 * frequencyHz)) - 1;
}

export function ledRegister(channel: number): number {
  return PCA9685_LED0_ON_L + 4 * channel;
}

/** Duty cycle 0..1 of one channel's ON/OFF registers (§7.3.3), the four from `at` on. */
export function pca9685Duty(regs: Uint8Array, at = 0): number {
  const onH = regs[at + 1]!;
  const offH = regs[at + 3]!;
  if (offH & LED_FULL) return 0; // full off wins over full on
  if (onH & LED_FULL) return 1;
  const on = ((onH & 0x0f) << 8) | regs[at]!;
  const off = ((offH & 0x0f) << 8) | regs[at + 2]!;
  return ((off - on + 4096) % 4096) / 4096;
}

export class Pca9685 implements OutputDriver {
  readonly outputs = Array.from({ length: 16 }, (_, i) => `ch${i}`);

  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
    private readonly frequencyHz = 1000,
  ) {}

  async init(): Promise<void> {
    // §7.3.5: PRE_SCALE can only be written while SLEEP is set.
    const mode1 = await this.bus.readByte(this.address, PCA9685_MODE1);
    await this.bus.writeByte(this.address, PCA9685_MODE1, (mode1 & ~MODE1_RESTART) | MODE1_SLEEP);
    await this.bus.writeByte(this.address, PCA9685_PRE_SCALE, pca9685Prescale(this.frequencyHz));
    await this.bus.writeByte(this.address, PCA9685_MODE1, MODE1_AI | MODE1_ALLCALL);
    await this.clock.sleep(1); // §7.3.1.1: oscillator needs 500 µs after leaving SLEEP
    const awake = await this.bus.readByte(this.address, PCA9685_MODE1);
    if (awake & MODE1_RESTART) await this.bus.writeByte(this.address, PCA9685_MODE1, awake | MODE1_RESTART);
    const prescale = await this.bus.readByte(this.address, PCA9685_PRE_SCALE);
    if (prescale !== pca9685Prescale(this.frequencyHz)) {
      throw new HalError('HAL_DEVICE_ERROR', `${this.name}: PRE_SCALE reads ${prescale} after writing it`);
    }
  }

  async reset(): Promise<void> {
    // Soft reset by restarting the oscillator; SWRST would reset every PCA9685 on the bus.
    await this.bus.writeByte(this.address, PCA9685_MODE1, MODE1_SLEEP | MODE1_ALLCALL);
  }

  private channel(output: string): number {
    const n = Number(output.replace(/^ch/, ''));
    if (!Number.isInteger(n) || n < 0 || n > 15)
      throw new HalError('HAL_BAD_COMMAND', `${this.name}: no output ${output}`);
    return n;
  }

  async write(output: string, level: number): Promise<void> {
    const count = Math.round(Math.min(1, Math.max(0, level)) * 4096);
    const regs =
      count >= 4096
        ? [0x00, LED_FULL, 0x00, 0x00]
        : count <= 0
          ? [0x00, 0x00, 0x00, LED_FULL]
          : [0x00, 0x00, count & 0xff, count >> 8];
    await this.bus.writeI2cBlock(this.address, ledRegister(this.channel(output)), 4, Buffer.from(regs));
  }

  async readBack(output: string): Promise<number> {
    const regs = Buffer.alloc(4);
    await this.bus.readI2cBlock(this.address, ledRegister(this.channel(output)), 4, regs);
    const mode1 = await this.bus.readByte(this.address, PCA9685_MODE1);
    return mode1 & MODE1_SLEEP ? 0 : pca9685Duty(regs);
  }
}
