import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import type { OutputDriver, SensorDriver } from './driver';

// MCP23017 datasheet Table 3-1 (IOCON.BANK = 0).
export const IODIRA = 0x00;
export const IPOLA = 0x02;
export const GPPUA = 0x0c;
export const IOCON = 0x0a;
export const GPIOA = 0x12;
export const OLATA = 0x14;
/** Bytes from IODIRA up to GPIOB: one sequential read covers an input's configuration and level. */
const INPUT_WINDOW = GPIOA + 2;

/** Pin names as the datasheet labels them: GPA0..GPA7, GPB0..GPB7 → 0..15. */
export function pinNumber(pin: string): number {
  const m = /^gp([ab])([0-7])$/i.exec(pin);
  if (!m) throw new HalError('HAL_BAD_COMMAND', `no MCP23017 pin ${pin}`);
  return (m[1]!.toLowerCase() === 'b' ? 8 : 0) + Number(m[2]);
}

const PINS = [...'ab'].flatMap((port) => Array.from({ length: 8 }, (_, i) => `gp${port}${i}`));

export class Mcp23017 implements OutputDriver, SensorDriver {
  readonly outputs: readonly string[];
  readonly channels: readonly string[];
  private readonly outputMask: number;
  private readonly activeLowMask: number;

  /**
   * outputs: the pins that drive relays; every other pin is an input with pull-up.
   * activeLow: inputs whose contact closes to ground when active (read 1 when the pin is low),
   * so a cut wire, pulled up, reads 0.
   */
  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    outputs: readonly string[],
    activeLow: readonly string[] = [],
  ) {
    this.outputs = outputs;
    this.channels = PINS.filter((p) => !outputs.includes(p));
    this.outputMask = mask(outputs);
    this.activeLowMask = mask(activeLow);
  }

  private async writePair(register: number, value: number): Promise<void> {
    // Sequential mode (IOCON.SEQOP = 0): A then B.
    await this.bus.writeI2cBlock(this.address, register, 2, Buffer.from([value & 0xff, value >> 8]));
  }

  private async readPair(register: number): Promise<number> {
    const buf = Buffer.alloc(2);
    await this.bus.readI2cBlock(this.address, register, 2, buf);
    return buf[0]! | (buf[1]! << 8);
  }

  async init(): Promise<void> {
    await this.bus.writeByte(this.address, IOCON, 0x00);
    // Latch first, then direction, so a relay never glitches; a re-init keeps the relays as they are.
    const latch = await this.readPair(OLATA);
    await this.writePair(OLATA, latch & this.outputMask);
    await this.writePair(IODIRA, ~this.outputMask & 0xffff);
    await this.writePair(GPPUA, ~this.outputMask & 0xffff);
    await this.writePair(IPOLA, 0);
    const dir = await this.readPair(IODIRA);
    if (dir !== (~this.outputMask & 0xffff)) {
      throw new HalError(
        'HAL_DEVICE_ERROR',
        `${this.name}: IODIR reads 0x${dir.toString(16)} after writing it`,
      );
    }
  }

  async reset(): Promise<void> {
    // No soft reset command: init rewrites every register we rely on.
  }

  async write(output: string, level: number): Promise<void> {
    const bit = 1 << pinNumber(output);
    if (!(this.outputMask & bit))
      throw new HalError('HAL_BAD_COMMAND', `${this.name}: ${output} is not an output`);
    const latch = await this.readPair(OLATA);
    await this.writePair(OLATA, level >= 0.5 ? latch | bit : latch & ~bit);
  }

  /** The pin level read back from GPIO (the port, not the latch). */
  async readBack(output: string): Promise<number> {
    return (await this.readPair(GPIOA)) & (1 << pinNumber(output)) ? 1 : 0;
  }

  /**
   * An input's logical level (polarity applied). Supervised: the same read checks the pin is still
   * an input with its pull-up and no inversion, since a power glitch (registers back to their
   * power-on values, GPPU = 0) leaves the pin floating and its level meaningless.
   */
  async read(channel: string): Promise<number> {
    const bit = 1 << pinNumber(channel);
    if (this.outputMask & bit) throw new HalError('HAL_BAD_COMMAND', `${this.name}: ${channel} is an output`);
    const regs = Buffer.alloc(INPUT_WINDOW);
    await this.bus.readI2cBlock(this.address, IODIRA, regs.length, regs);
    const pair = (register: number) => regs[register]! | (regs[register + 1]! << 8);
    if (!(pair(IODIRA) & bit) || !(pair(GPPUA) & bit) || pair(IPOLA) & bit) {
      throw new HalError(
        'HAL_DEVICE_ERROR',
        `${this.name}: input ${channel} lost its configuration (IODIR 0x${pair(IODIRA).toString(16)}, GPPU 0x${pair(GPPUA).toString(16)}, IPOL 0x${pair(IPOLA).toString(16)}): power glitch?`,
        { device: this.name, channel },
      );
    }
    const high = (pair(GPIOA) & bit) !== 0;
    return high !== ((this.activeLowMask & bit) !== 0) ? 1 : 0;
  }
}

function mask(pins: readonly string[]): number {
  return pins.reduce((m, pin) => m | (1 << pinNumber(pin)), 0);
}
