import type { Clock } from '../clock';
import { sensirionCrc8 } from '../crc';
import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import { hex, type SensorDriver } from './driver';

// SHT3x-DIS datasheet §4.3 Table 9: single shot, high repeatability, clock stretching disabled.
export const SHT3X_MEASURE_HIGH_NO_STRETCH = 0x2400;
// §4.9 soft reset.
export const SHT3X_SOFT_RESET = 0x30a2;
// §4.11 status register.
export const SHT3X_READ_STATUS = 0xf32d;
// Table 4: high repeatability measurement duration, max 15 ms.
export const SHT3X_MEASUREMENT_MS = 15;

/** §4.13: T = -45 + 175 * S_T / (2^16 - 1). */
export function sht3xTemperature(raw: number): number {
  return -45 + (175 * raw) / 65535;
}

/** §4.13: RH = 100 * S_RH / (2^16 - 1). */
export function sht3xHumidity(raw: number): number {
  return (100 * raw) / 65535;
}

/** Splits a Sensirion response into its 16-bit words, checking each word's CRC (§4.12). */
export function sensirionWords(data: Buffer, device: string): number[] {
  const words: number[] = [];
  for (let i = 0; i + 2 < data.length; i += 3) {
    const crc = sensirionCrc8(data.subarray(i, i + 2));
    if (crc !== data[i + 2]) {
      throw new HalError(
        'HAL_CRC',
        `${device}: CRC mismatch in word ${i / 3} (got 0x${data[i + 2]!.toString(16)}, expected 0x${crc.toString(16)})`,
      );
    }
    words.push(data.readUInt16BE(i));
  }
  return words;
}

export class Sht3x implements SensorDriver {
  readonly channels = ['temperature', 'humidity'] as const;

  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
  ) {}

  private command(code: number): Promise<unknown> {
    return this.bus.i2cWrite(this.address, 2, Buffer.from([code >> 8, code & 0xff]));
  }

  async init(): Promise<void> {
    const buf = Buffer.alloc(3);
    await this.command(SHT3X_READ_STATUS);
    await this.bus.i2cRead(this.address, 3, buf);
    sensirionWords(buf, this.name);
  }

  async reset(): Promise<void> {
    await this.command(SHT3X_SOFT_RESET);
    await this.clock.sleep(2); // Table 4: soft reset time max 1.5 ms
  }

  async measure(): Promise<{ temperature: number; humidity: number }> {
    await this.command(SHT3X_MEASURE_HIGH_NO_STRETCH);
    await this.clock.sleep(SHT3X_MEASUREMENT_MS);
    const buf = Buffer.alloc(6);
    await this.bus.i2cRead(this.address, 6, buf);
    const [t, rh] = sensirionWords(buf, `${this.name} (SHT3x ${hex(this.address)})`);
    return { temperature: sht3xTemperature(t!), humidity: sht3xHumidity(rh!) };
  }

  async read(channel: string): Promise<number> {
    const m = await this.measure();
    return channel === 'humidity' ? m.humidity : m.temperature;
  }
}
