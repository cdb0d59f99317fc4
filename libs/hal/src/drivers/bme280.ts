import type { Clock } from '../clock';
import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import { hex, type SensorDriver } from './driver';

// BME280 datasheet (BST-BME280-DS002) §5.3 memory map.
export const BME280_CALIB00 = 0x88; // dig_T1..dig_H1, 0x88..0xA1
export const BME280_CALIB26 = 0xe1; // dig_H2..dig_H6, 0xE1..0xE7
export const BME280_ID = 0xd0;
export const BME280_CHIP_ID = 0x60;
export const BME280_RESET = 0xe0;
export const BME280_RESET_WORD = 0xb6;
export const BME280_CTRL_HUM = 0xf2;
export const BME280_STATUS = 0xf3;
export const BME280_CTRL_MEAS = 0xf4;
export const BME280_DATA = 0xf7; // press_msb..hum_lsb, 8 bytes
export const STATUS_MEASURING = 0x08;
export const STATUS_IM_UPDATE = 0x01;
/** ctrl_meas: osrs_t ×1, osrs_p ×1, forced mode (§5.4.5). */
export const CTRL_MEAS_FORCED_X1 = (0b001 << 5) | (0b001 << 2) | 0b01;
/** ctrl_hum: osrs_h ×1 (§5.4.3). */
export const CTRL_HUM_X1 = 0b001;
/** §9.1: t_measure,max = 1.25 + 2.3·1 + (2.3·1 + 0.575)·2 ms ≈ 9.3 ms at ×1 oversampling. */
export const BME280_MEASURE_MS = 10;
/** Status polls before giving up: far beyond any conversion or NVM copy of §9.1 (≤ 10 ms). */
export const BME280_MAX_STATUS_POLLS = 50;

export interface Bme280Calibration {
  T1: number;
  T2: number;
  T3: number;
  P1: number;
  P2: number;
  P3: number;
  P4: number;
  P5: number;
  P6: number;
  P7: number;
  P8: number;
  P9: number;
  H1: number;
  H2: number;
  H3: number;
  H4: number;
  H5: number;
  H6: number;
}

/** §4.2.2 Table 16: the trimming parameters' layout. */
export function parseCalibration(c00: Buffer, c26: Buffer): Bme280Calibration {
  const e4 = c26.readInt8(3);
  const e5 = c26[4]!;
  const e6 = c26.readInt8(5);
  return {
    T1: c00.readUInt16LE(0),
    T2: c00.readInt16LE(2),
    T3: c00.readInt16LE(4),
    P1: c00.readUInt16LE(6),
    P2: c00.readInt16LE(8),
    P3: c00.readInt16LE(10),
    P4: c00.readInt16LE(12),
    P5: c00.readInt16LE(14),
    P6: c00.readInt16LE(16),
    P7: c00.readInt16LE(18),
    P8: c00.readInt16LE(20),
    P9: c00.readInt16LE(22),
    H1: c00[25]!,
    H2: c26.readInt16LE(0),
    H3: c26[2]!,
    H4: e4 * 16 + (e5 & 0x0f),
    H5: e6 * 16 + (e5 >> 4),
    H6: c26.readInt8(6),
  };
}

/** §4.2.3 BME280_compensate_T_int32: temperature in 0.01 °C and t_fine. */
export function compensateTemperature(
  adcT: number,
  c: Bme280Calibration,
): { centiCelsius: number; tFine: number } {
  const var1 = ((((adcT >> 3) - (c.T1 << 1)) | 0) * c.T2) >> 11;
  const var2 = (((((adcT >> 4) - c.T1) * ((adcT >> 4) - c.T1)) >> 12) * c.T3) >> 14;
  const tFine = var1 + var2;
  return { centiCelsius: (tFine * 5 + 128) >> 8, tFine };
}

/** §8.1 compensate_P_double: pressure in Pa. */
export function compensatePressure(adcP: number, tFine: number, c: Bme280Calibration): number {
  let var1 = tFine / 2 - 64000;
  let var2 = (var1 * var1 * c.P6) / 32768;
  var2 = var2 + var1 * c.P5 * 2;
  var2 = var2 / 4 + c.P4 * 65536;
  var1 = ((c.P3 * var1 * var1) / 524288 + c.P2 * var1) / 524288;
  var1 = (1 + var1 / 32768) * c.P1;
  if (var1 === 0) return 0; // avoid division by zero
  let p = 1048576 - adcP;
  p = ((p - var2 / 4096) * 6250) / var1;
  var1 = (c.P9 * p * p) / 2147483648;
  var2 = (p * c.P8) / 32768;
  return p + (var1 + var2 + c.P7) / 16;
}

/** §8.1 compensate_H_double: relative humidity in %, clamped to 0..100. */
export function compensateHumidity(adcH: number, tFine: number, c: Bme280Calibration): number {
  let h = tFine - 76800;
  h =
    (adcH - (c.H4 * 64 + (c.H5 / 16384) * h)) *
    ((c.H2 / 65536) * (1 + (c.H6 / 67108864) * h * (1 + (c.H3 / 67108864) * h)));
  h = h * (1 - (c.H1 * h) / 524288);
  return Math.min(100, Math.max(0, h));
}

export class Bme280 implements SensorDriver {
  readonly channels = ['temperature', 'humidity', 'pressure'] as const;
  private calibration: Bme280Calibration | undefined;

  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
  ) {}

  async init(): Promise<void> {
    const id = await this.bus.readByte(this.address, BME280_ID);
    if (id !== BME280_CHIP_ID) {
      throw new HalError(
        'HAL_DEVICE_ERROR',
        `${this.name}: chip id 0x${id.toString(16)} at ${hex(this.address)} is not a BME280`,
      );
    }
    // §5.4.4: wait until the NVM copy into the image registers is done.
    await this.waitWhileStatus(STATUS_IM_UPDATE, 1, 'NVM copy');
    const c00 = Buffer.alloc(26);
    const c26 = Buffer.alloc(7);
    await this.bus.readI2cBlock(this.address, BME280_CALIB00, 26, c00);
    await this.bus.readI2cBlock(this.address, BME280_CALIB26, 7, c26);
    this.calibration = parseCalibration(c00, c26);
    // §5.4.3: ctrl_hum takes effect only after a write to ctrl_meas.
    await this.bus.writeByte(this.address, BME280_CTRL_HUM, CTRL_HUM_X1);
  }

  async reset(): Promise<void> {
    await this.bus.writeByte(this.address, BME280_RESET, BME280_RESET_WORD);
    await this.clock.sleep(2); // §1: start-up time 2 ms
  }

  /** Polls status (§5.4.4) while a bit is set: a bounded number of polls, then a timeout. */
  private async waitWhileStatus(bit: number, pollMs: number, what: string): Promise<void> {
    for (let polls = 0; (await this.bus.readByte(this.address, BME280_STATUS)) & bit; polls++) {
      if (polls >= BME280_MAX_STATUS_POLLS)
        throw new HalError('HAL_TIMEOUT', `${this.name}: ${what} did not finish after ${polls} status polls`);
      await this.clock.sleep(pollMs);
    }
  }

  /** One forced-mode measurement (§3.3.3). */
  async measure(): Promise<{ temperature: number; pressure: number; humidity: number }> {
    const c = this.calibration;
    if (!c) throw new HalError('HAL_DEVICE_ERROR', `${this.name}: not initialised`);
    await this.bus.writeByte(this.address, BME280_CTRL_MEAS, CTRL_MEAS_FORCED_X1);
    await this.clock.sleep(BME280_MEASURE_MS);
    await this.waitWhileStatus(STATUS_MEASURING, 2, 'measurement');
    const d = Buffer.alloc(8);
    await this.bus.readI2cBlock(this.address, BME280_DATA, 8, d);
    const adcP = (d[0]! << 12) | (d[1]! << 4) | (d[2]! >> 4);
    const adcT = (d[3]! << 12) | (d[4]! << 4) | (d[5]! >> 4);
    const adcH = (d[6]! << 8) | d[7]!;
    const t = compensateTemperature(adcT, c);
    return {
      temperature: t.centiCelsius / 100,
      pressure: compensatePressure(adcP, t.tFine, c) / 100, // hPa
      humidity: compensateHumidity(adcH, t.tFine, c),
    };
  }

  async read(channel: string): Promise<number> {
    const m = await this.measure();
    return channel === 'pressure' ? m.pressure : channel === 'humidity' ? m.humidity : m.temperature;
  }
}
