import { GPIOA, IODIRA, IPOLA, OLATA } from '../../drivers/mcp23017';
import type { SimContext } from './sim-device';
import { SimDevice } from './sim-device';

/** MCP23017 in BANK=0 with sequential addressing: registers pair up A/B (Table 3-1). */
export class Mcp23017Model extends SimDevice {
  readonly regs = new Uint8Array(0x16);
  private pointer = 0;

  constructor(
    name: string,
    address: number,
    ctx: SimContext,
    /** Level of an input pin 0..15 as the outside world drives it (pull-ups: 1 when open). */
    private readonly inputLevel: (pin: number) => number,
    private readonly onOutput: (pin: number, level: number) => void = () => undefined,
  ) {
    super(name, address, ctx);
    this.powerOn();
  }

  /** A brown-out: every pin an input again (§3.5), so the relays drop and the latch is cleared. */
  override powerCycle(): void {
    const outputs = ~this.word(IODIRA) & 0xffff;
    this.powerOn();
    for (let pin = 0; pin < 16; pin++) if (outputs & (1 << pin)) this.onOutput(pin, 0);
  }

  private powerOn(): void {
    this.pointer = 0;
    this.regs.fill(0);
    this.regs[IODIRA] = 0xff; // §3.5: all inputs after reset
    this.regs[IODIRA + 1] = 0xff;
  }

  private word(register: number): number {
    return this.regs[register]! | (this.regs[register + 1]! << 8);
  }

  /** GPIO reads the pins: outputs show the latch, inputs the outside level through IPOL. */
  private gpio(): number {
    const dir = this.word(IODIRA);
    const latch = this.word(OLATA);
    const ipol = this.word(IPOLA);
    let value = 0;
    for (let pin = 0; pin < 16; pin++) {
      const bit = 1 << pin;
      const level = dir & bit ? (this.inputLevel(pin) ? bit : 0) ^ (ipol & bit) : latch & bit;
      value |= level;
    }
    return value;
  }

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.pointer = data[0]!;
    for (let i = 1; i < data.length; i++) {
      const reg = this.pointer;
      if (reg >= this.regs.length) this.nack();
      // §3.5.10: a write to GPIO writes the output latch.
      const target = reg === GPIOA || reg === GPIOA + 1 ? reg + 2 : reg;
      this.regs[target] = data[i]!;
      this.pointer = (this.pointer + 1) % this.regs.length;
    }
    const dir = this.word(IODIRA);
    const latch = this.word(OLATA);
    for (let pin = 0; pin < 16; pin++)
      if (!(dir & (1 << pin))) this.onOutput(pin, latch & (1 << pin) ? 1 : 0);
  }

  read(length: number): Buffer {
    const out = Buffer.alloc(length);
    const gpio = this.gpio();
    for (let i = 0; i < length; i++) {
      const reg = this.pointer;
      // GPIO is what confirms an output: with the fault its reads fail while latch writes still land.
      if ((reg === GPIOA || reg === GPIOA + 1) && this.fault('readback-fail')) this.nack();
      out[i] = reg === GPIOA ? gpio & 0xff : reg === GPIOA + 1 ? gpio >> 8 : (this.regs[reg] ?? 0);
      this.pointer = (this.pointer + 1) % this.regs.length;
    }
    return out;
  }
}
