import type { Clock } from '../clock';
import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import type { SensorDriver } from './driver';

// ADS1115 datasheet (SBAS444) §9.6 register map: the address pointer register selects one.
export const ADS1115_CONVERSION = 0x00;
export const ADS1115_CONFIG = 0x01;
// §9.6.3 Config register fields.
export const CONFIG_OS = 0x8000;
export const CONFIG_MODE_SINGLE = 0x0100;
export const CONFIG_COMP_QUE_DISABLE = 0x0003;
/** MUX[14:12] = 100..111: AINn against GND. */
export const muxSingleEnded = (channel: number) => (0b100 + channel) << 12;

/** PGA[11:9] → full-scale range in volts. */
export const PGA_FSR = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256] as const;
/** DR[7:5] → samples per second. */
export const DATA_RATES = [8, 16, 32, 64, 128, 250, 475, 860] as const;

/** §9.3.3: a code is FSR / 2^15 volts; MSB first, two's complement. */
export function ads1115Volts(code: number, pga: number): number {
  return (code * PGA_FSR[pga]!) / 32768;
}

export function ads1115Config(channel: number, pga: number, dataRate: number): number {
  return (
    CONFIG_OS |
    muxSingleEnded(channel) |
    (pga << 9) |
    CONFIG_MODE_SINGLE |
    (dataRate << 5) |
    CONFIG_COMP_QUE_DISABLE
  );
}

export class Ads1115 implements SensorDriver {
  readonly channels = ['ain0', 'ain1', 'ain2', 'ain3'] as const;

  /** pga 1 = ±4.096 V, dataRate 4 = 128 SPS (the power-on default rate). */
  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
    private readonly pga = 1,
    private readonly dataRate = 4,
  ) {}

  private async readRegister(register: number): Promise<number> {
    const buf = Buffer.alloc(2);
    await this.bus.readI2cBlock(this.address, register, 2, buf);
    return buf.readUInt16BE(0);
  }

  async init(): Promise<void> {
    // Power-on config is 0x8583 (§9.6.3); anything with MODE=0 would be another owner's continuous mode.
    await this.readRegister(ADS1115_CONFIG);
  }

  async reset(): Promise<void> {
    // General-call reset (0x00, 0x06) would reset every device on the bus; a config rewrite suffices.
    await this.writeConfig(0x8583 & ~CONFIG_OS);
  }

  private async writeConfig(config: number): Promise<void> {
    await this.bus.writeI2cBlock(this.address, ADS1115_CONFIG, 2, Buffer.from([config >> 8, config & 0xff]));
  }

  /** Single-shot conversion of one input against GND, in volts. */
  async read(channel: string): Promise<number> {
    const n = this.channels.indexOf(channel as (typeof this.channels)[number]);
    if (n < 0) throw new HalError('HAL_BAD_COMMAND', `${this.name}: no channel ${channel}`);
    await this.writeConfig(ads1115Config(n, this.pga, this.dataRate));
    await this.clock.sleep(Math.ceil(1000 / DATA_RATES[this.dataRate]!) + 1);
    // OS reads 0 while converting.
    for (let polls = 0; !((await this.readRegister(ADS1115_CONFIG)) & CONFIG_OS); polls++) {
      if (polls > 10) throw new HalError('HAL_TIMEOUT', `${this.name}: conversion did not finish`);
      await this.clock.sleep(1);
    }
    const code = ((await this.readRegister(ADS1115_CONVERSION)) << 16) >> 16;
    return ads1115Volts(code, this.pga);
  }
}
