import {
  LED_FULL,
  MODE1_AI,
  MODE1_RESTART,
  MODE1_SLEEP,
  PCA9685_LED0_ON_L,
  PCA9685_MODE1,
  PCA9685_PRE_SCALE,
  pca9685Duty,
} from '../../drivers/pca9685';
import type { SimContext } from './sim-device';
import { SimDevice } from './sim-device';

/** PCA9685: 256 registers behind a pointer; auto-increment when MODE1.AI is set (§7.3). */
export class Pca9685Model extends SimDevice {
  readonly regs = new Uint8Array(256);
  private pointer = 0;
  /** Each channel's duty as last told to `onOutput` (NaN: never told). */
  private readonly told = new Float64Array(16).fill(NaN);

  constructor(
    name: string,
    address: number,
    ctx: SimContext,
    /** Called with (channel, duty 0..1) whenever an output changes. */
    private readonly onOutput: (channel: number, duty: number) => void = () => undefined,
  ) {
    super(name, address, ctx);
    this.powerOn();
  }

  /** A brown-out: the registers take their power-on values, so every output is off and the chip sleeps. */
  override powerCycle(): void {
    this.powerOn();
    this.tellOutputs();
  }

  /** Tells `onOutput` of every channel whose duty changed since it was last told. */
  private tellOutputs(): void {
    for (let ch = 0; ch < 16; ch++) {
      const duty = this.duty(ch);
      if (duty === this.told[ch]) continue;
      this.told[ch] = duty;
      this.onOutput(ch, duty);
    }
  }

  private powerOn(): void {
    this.pointer = 0;
    this.regs.fill(0);
    this.regs[PCA9685_MODE1] = 0x11; // §7.3.1: SLEEP | ALLCALL after power-on
    this.regs[0x01] = 0x04; // MODE2: OUTDRV
    for (let ch = 0; ch < 16; ch++) this.regs[PCA9685_LED0_ON_L + 4 * ch + 3] = LED_FULL; // all off
    this.regs[PCA9685_PRE_SCALE] = 0x1e;
  }

  duty(channel: number): number {
    if (this.regs[PCA9685_MODE1]! & MODE1_SLEEP) return 0;
    return pca9685Duty(this.regs, PCA9685_LED0_ON_L + 4 * channel);
  }

  private store(register: number, value: number): void {
    if (register === PCA9685_PRE_SCALE && !(this.regs[PCA9685_MODE1]! & MODE1_SLEEP)) return; // §7.3.5
    if (register === PCA9685_MODE1) {
      const old = this.regs[PCA9685_MODE1]!;
      // Writing 1 to RESTART clears it (§7.3.1.1); going to sleep with PWM running sets it.
      let next = value & ~MODE1_RESTART;
      if (!(value & MODE1_RESTART) && !(old & MODE1_SLEEP) && value & MODE1_SLEEP) next |= MODE1_RESTART;
      if (old & MODE1_RESTART && !(value & MODE1_RESTART)) next |= old & MODE1_RESTART;
      this.regs[PCA9685_MODE1] = next;
    } else {
      this.regs[register] = value;
    }
  }

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.pointer = data[0]!;
    for (let i = 1; i < data.length; i++) {
      this.store(this.pointer, data[i]!);
      if (this.regs[PCA9685_MODE1]! & MODE1_AI) this.pointer = (this.pointer + 1) & 0xff;
    }
    // Only a register write can change an output (a read's pointer write cannot).
    if (data.length > 1) this.tellOutputs();
  }

  read(length: number): Buffer {
    // Every read (LEDn, MODE1) confirms an output: with the fault they fail while writes still land.
    if (this.fault('readback-fail')) this.nack();
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      out[i] = this.regs[this.pointer]!;
      if (this.regs[PCA9685_MODE1]! & MODE1_AI) this.pointer = (this.pointer + 1) & 0xff;
    }
    return out;
  }
}
