import { HalError } from '../errors';
import type { W1Bus } from '../w1/w1-bus';
import type { SensorDriver } from './driver';

/** DS18B20 datasheet, Table 1: the temperature register's power-on reset value is +85 °C. */
export const DS18B20_POWER_ON_MILLIDEGREES = 85000;

/**
 * Parses w1_therm's w1_slave file:
 *   "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES"
 *   "72 01 4b 46 7f ff 0e 10 57 t=23125"
 */
export function parseW1Slave(text: string, device: string): number {
  const lines = text.trim().split('\n');
  if (text.trim() === '' || lines.length < 2) {
    throw new HalError('HAL_W1_EMPTY', `${device}: empty 1-Wire read (bus error or device gone)`);
  }
  const crc = /crc=([0-9a-f]{2}) (YES|NO)/.exec(lines[0]!);
  if (!crc) throw new HalError('HAL_DEVICE_ERROR', `${device}: unreadable w1_slave "${lines[0]}"`);
  if (crc[2] !== 'YES') throw new HalError('HAL_CRC', `${device}: 1-Wire scratchpad CRC check failed`);
  checkScratchpad(lines[0]!, device);
  const t = /t=(-?\d+)/.exec(lines[1]!);
  if (!t) throw new HalError('HAL_DEVICE_ERROR', `${device}: no t= in w1_slave`);
  return checkMillidegrees(Number(t[1]), device);
}

/**
 * Figure 9: byte 4 (configuration) has bits 0-4 fixed at 1 and byte 5 is reserved as FFh. A data
 * line held low reads nine zero bytes, whose CRC is also zero and passes: the fixed bits catch it.
 */
function checkScratchpad(line: string, device: string): void {
  const bytes = line
    .split(':')[0]!
    .trim()
    .split(/\s+/)
    .map((b) => parseInt(b, 16));
  if (bytes.length !== 9 || (bytes[4]! & 0x1f) !== 0x1f || bytes[5] !== 0xff) {
    const zeros = bytes.every((b) => b === 0);
    throw new HalError(
      'HAL_CRC',
      `${device}: invalid scratchpad ${zeros ? 'of all zeros (data line held low?)' : `"${line.split(':')[0]!.trim()}"`}: its fixed bits are wrong`,
    );
  }
}

/** Parses the newer `temperature` file (millidegrees; empty when the read failed). */
export function parseTemperatureFile(text: string, device: string): number {
  const trimmed = text.trim();
  if (trimmed === '')
    throw new HalError('HAL_W1_EMPTY', `${device}: empty 1-Wire read (bus error or device gone)`);
  const value = Number(trimmed);
  if (!Number.isInteger(value))
    throw new HalError('HAL_DEVICE_ERROR', `${device}: unreadable temperature "${trimmed}"`);
  return checkMillidegrees(value, device);
}

function checkMillidegrees(value: number, device: string): number {
  if (value === DS18B20_POWER_ON_MILLIDEGREES) {
    // A conversion that never ran (brown-out, weak pull-up) reads as the power-on value.
    throw new HalError('HAL_RANGE', `${device}: 85 °C power-on value rejected (no conversion took place)`);
  }
  return value / 1000;
}

export class Ds18b20 implements SensorDriver {
  readonly channels = ['temperature'] as const;

  constructor(
    readonly name: string,
    private readonly w1: W1Bus,
    private readonly id: string,
    private readonly source: 'w1_slave' | 'temperature' = 'w1_slave',
  ) {}

  async init(): Promise<void> {
    if (!(await this.w1.devices()).includes(this.id)) {
      throw new HalError(
        'HAL_W1_MISSING',
        `1-Wire device ${this.id} not found under ${this.w1.root} (unplugged?)`,
      );
    }
  }

  async reset(): Promise<void> {}

  async read(): Promise<number> {
    const text = await this.w1.readDeviceFile(this.id, this.source);
    const label = `${this.name} (DS18B20 ${this.id})`;
    return this.source === 'w1_slave' ? parseW1Slave(text, label) : parseTemperatureFile(text, label);
  }
}
