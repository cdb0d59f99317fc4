import {
  BME280_CALIB00,
  BME280_CALIB26,
  BME280_CHIP_ID,
  BME280_CTRL_MEAS,
  BME280_DATA,
  BME280_ID,
  BME280_RESET,
  BME280_RESET_WORD,
  BME280_STATUS,
  STATUS_MEASURING,
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  parseCalibration,
  type Bme280Calibration,
} from '../../drivers/bme280';
import type { SimContext } from './sim-device';
import { SimDevice } from './sim-device';

/** Trimming values: T and P from the datasheet's worked example, H typical of real parts. */
export const SIM_BME280_TRIMMING = {
  T1: 27504,
  T2: 26435,
  T3: -1000,
  P1: 36477,
  P2: -10685,
  P3: 3024,
  P4: 2855,
  P5: 140,
  P6: -7,
  P7: 15500,
  P8: -14600,
  P9: 6000,
  H1: 75,
  H2: 362,
  H3: 0,
  H4: 313,
  H5: 50,
  H6: 30,
} satisfies Bme280Calibration;

/** Finds the raw ADC value whose compensated output is closest to a target (outputs are monotonic). */
function invert(target: number, bits: number, f: (adc: number) => number): number {
  let lo = 0;
  let hi = 2 ** bits - 1;
  const rising = f(hi) > f(lo);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (f(mid) < target === rising) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** BME280: forced-mode measurements into the data registers, trimming values in NVM (§4, §5). */
export class Bme280Model extends SimDevice {
  readonly regs = new Uint8Array(256);
  private pointer = 0;
  private measuringUntil = 0;

  constructor(name: string, address: number, ctx: SimContext) {
    super(name, address, ctx);
    this.powerOn();
  }

  private powerOn(): void {
    const t = SIM_BME280_TRIMMING;
    const c00 = Buffer.alloc(26);
    c00.writeUInt16LE(t.T1, 0);
    c00.writeInt16LE(t.T2, 2);
    c00.writeInt16LE(t.T3, 4);
    c00.writeUInt16LE(t.P1, 6);
    [t.P2, t.P3, t.P4, t.P5, t.P6, t.P7, t.P8, t.P9].forEach((v, i) => c00.writeInt16LE(v, 8 + 2 * i));
    c00[25] = t.H1;
    const c26 = Buffer.alloc(7);
    c26.writeInt16LE(t.H2, 0);
    c26[2] = t.H3;
    c26[3] = (t.H4 >> 4) & 0xff;
    c26[4] = (t.H4 & 0x0f) | ((t.H5 & 0x0f) << 4);
    c26[5] = (t.H5 >> 4) & 0xff;
    c26.writeInt8(t.H6, 6);
    this.regs.fill(0);
    this.regs.set(c00, BME280_CALIB00);
    this.regs.set(c26, BME280_CALIB26);
    this.regs[BME280_ID] = BME280_CHIP_ID;
    // Skipped registers read 0x80 0x00 0x00 (§5.4.7); sleep mode until forced.
    this.regs.set([0x80, 0, 0, 0x80, 0, 0, 0x80, 0], BME280_DATA);
  }

  private calibration(): Bme280Calibration {
    return parseCalibration(
      Buffer.from(this.regs.subarray(BME280_CALIB00, BME280_CALIB00 + 26)),
      Buffer.from(this.regs.subarray(BME280_CALIB26, BME280_CALIB26 + 7)),
    );
  }

  private convert(): void {
    const c = this.calibration();
    const t = this.sample('t', () => this.ctx.cabinet.measure('airTemperature', 0.05));
    const p = this.sample('p', () => this.ctx.cabinet.measure('airPressure', 0.05));
    const h = this.sample('h', () => this.ctx.cabinet.measure('airHumidity', 0.3));
    const adcT = invert(t * 100, 20, (adc) => compensateTemperature(adc, c).centiCelsius);
    const { tFine } = compensateTemperature(adcT, c);
    const adcP = invert(p * 100, 20, (adc) => compensatePressure(adc, tFine, c));
    const adcH = invert(h, 16, (adc) => compensateHumidity(adc, tFine, c));
    this.regs.set(
      [
        adcP >> 12,
        (adcP >> 4) & 0xff,
        (adcP & 0x0f) << 4,
        adcT >> 12,
        (adcT >> 4) & 0xff,
        (adcT & 0x0f) << 4,
        adcH >> 8,
        adcH & 0xff,
      ],
      BME280_DATA,
    );
  }

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.pointer = data[0]!;
    // §6.2.1: multi-byte writes are register/data pairs.
    for (let i = 0; i + 1 < data.length; i += 2) {
      const reg = data[i]!;
      const value = data[i + 1]!;
      if (reg === BME280_RESET && value === BME280_RESET_WORD) this.powerOn();
      else if (reg === BME280_CTRL_MEAS) {
        this.regs[reg] = value;
        if ((value & 0b11) === 0b01 || (value & 0b11) === 0b10) {
          this.convert();
          this.measuringUntil = this.ctx.clock.now() + 8;
        }
      } else if (reg >= 0xf2 && reg <= 0xf5) this.regs[reg] = value;
    }
  }

  read(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      const reg = (this.pointer + i) & 0xff;
      out[i] =
        reg === BME280_STATUS
          ? this.ctx.clock.now() < this.measuringUntil
            ? STATUS_MEASURING
            : 0
          : this.regs[reg]!;
    }
    return out;
  }
}
