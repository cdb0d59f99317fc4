import type { Clock } from '../clock';
import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import type { SensorDriver } from './driver';
import { sensirionWords } from './sht3x';
import { sensirionCrc8 } from '../crc';
import { SCD4X_FRC_RANGE, type CalibrationCommand, type DeviceCalibration } from './probe-calibration';

// SCD4x datasheet §3.5 / §3.9 command codes.
export const SCD4X_START_PERIODIC_MEASUREMENT = 0x21b1;
export const SCD4X_READ_MEASUREMENT = 0xec05;
export const SCD4X_STOP_PERIODIC_MEASUREMENT = 0x3f86;
export const SCD4X_GET_DATA_READY_STATUS = 0xe4b8;
export const SCD4X_REINIT = 0x3646;
export const SCD4X_PERFORM_FORCED_RECALIBRATION = 0x362f;
/** §3.7.1: the result can be read 400 ms after the command. */
export const SCD4X_FRC_MS = 400;
/** §3.7.1: the answer 0xffff means the recalibration failed. */
export const SCD4X_FRC_FAILED = 0xffff;
/** §3.5.1: a new measurement every 5 s in periodic mode. */
export const SCD4X_MEASUREMENT_INTERVAL_MS = 5000;
/** §3.5.3: stop_periodic_measurement needs 500 ms before other commands. */
export const SCD4X_STOP_MS = 500;
const DATA_READY_POLL_MS = 100;

/** §3.5.2: CO2 in ppm as is, T = -45 + 175 * word / (2^16 - 1), RH = 100 * word / (2^16 - 1). */
export function scd4xConvert(words: number[]): { co2: number; temperature: number; humidity: number } {
  const [co2, t, rh] = words;
  return { co2: co2!, temperature: -45 + (175 * t!) / 65535, humidity: (100 * rh!) / 65535 };
}

export class Scd4x implements SensorDriver {
  readonly channels = ['co2', 'temperature', 'humidity'] as const;
  private last: { co2: number; temperature: number; humidity: number } | undefined;
  private lastAt = 0;

  constructor(
    readonly name: string,
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
  ) {}

  private async command(code: number, args: number[] = []): Promise<void> {
    const bytes = [code >> 8, code & 0xff];
    for (const word of args) {
      const w = [word >> 8, word & 0xff];
      bytes.push(...w, sensirionCrc8(w));
    }
    await this.bus.i2cWrite(this.address, bytes.length, Buffer.from(bytes));
  }

  private async readWords(code: number, count: number, execMs: number): Promise<number[]> {
    await this.command(code);
    await this.clock.sleep(execMs);
    const buf = Buffer.alloc(count * 3);
    await this.bus.i2cRead(this.address, buf.length, buf);
    return sensirionWords(buf, this.name);
  }

  async init(): Promise<void> {
    // §3.9.1: the sensor may still be measuring from a previous run; stop it before (re)starting.
    await this.command(SCD4X_STOP_PERIODIC_MEASUREMENT);
    await this.clock.sleep(SCD4X_STOP_MS);
    await this.command(SCD4X_START_PERIODIC_MEASUREMENT);
    this.last = undefined;
  }

  async reset(): Promise<void> {
    await this.command(SCD4X_STOP_PERIODIC_MEASUREMENT);
    await this.clock.sleep(SCD4X_STOP_MS);
    await this.command(SCD4X_REINIT);
    await this.clock.sleep(30); // §3.9.2: reinit takes 30 ms
  }

  async dataReady(): Promise<boolean> {
    const [status] = await this.readWords(SCD4X_GET_DATA_READY_STATUS, 1, 1);
    return (status! & 0x07ff) !== 0; // §3.9.2: least significant 11 bits 0 → not ready
  }

  /**
   * The latest measurement of the periodic cycle: a new one when the sensor has one ready,
   * else the previous one while it is younger than one interval, else waits for the next.
   */
  async measure(): Promise<{ co2: number; temperature: number; humidity: number }> {
    // Polls are counted rather than timed, so a busy event loop cannot cut the wait short.
    const maxPolls = (2 * SCD4X_MEASUREMENT_INTERVAL_MS) / DATA_READY_POLL_MS;
    for (let polls = 0; ; polls++) {
      if (await this.dataReady()) {
        this.last = scd4xConvert(await this.readWords(SCD4X_READ_MEASUREMENT, 3, 1));
        this.lastAt = this.clock.now();
        return this.last;
      }
      if (this.last && this.clock.now() - this.lastAt <= SCD4X_MEASUREMENT_INTERVAL_MS) return this.last;
      if (polls >= maxPolls) {
        throw new HalError(
          'HAL_TIMEOUT',
          `${this.name}: no measurement ready within ${2 * SCD4X_MEASUREMENT_INTERVAL_MS} ms`,
        );
      }
      await this.clock.sleep(DATA_READY_POLL_MS);
    }
  }

  /** Age (clock ms) of the measurement the last read returned. */
  ageMs(): number {
    return this.last ? this.clock.now() - this.lastAt : 0;
  }

  async read(channel: string): Promise<number> {
    const m = await this.measure();
    return channel === 'temperature' ? m.temperature : channel === 'humidity' ? m.humidity : m.co2;
  }

  /**
   * §3.7.1 perform_forced_recalibration: in idle mode, tell the sensor the CO2 it is in now; it
   * answers with the correction (word − 0x8000 ppm). Periodic measurement restarts afterwards.
   */
  async calibrate(c: CalibrationCommand): Promise<DeviceCalibration> {
    if (c.action !== 'forced')
      throw new HalError('HAL_BAD_COMMAND', `${this.name}: an SCD4x has no "${c.action}" calibration`);
    const ppm = c.value;
    if (
      typeof ppm !== 'number' ||
      !Number.isFinite(ppm) ||
      ppm < SCD4X_FRC_RANGE.min ||
      ppm > SCD4X_FRC_RANGE.max
    )
      throw new HalError(
        'HAL_BAD_COMMAND',
        `forced recalibration needs the reference CO2 within ${SCD4X_FRC_RANGE.min}..${SCD4X_FRC_RANGE.max} ppm`,
      );
    await this.command(SCD4X_STOP_PERIODIC_MEASUREMENT);
    await this.clock.sleep(SCD4X_STOP_MS);
    try {
      await this.command(SCD4X_PERFORM_FORCED_RECALIBRATION, [Math.round(ppm)]);
      await this.clock.sleep(SCD4X_FRC_MS);
      const buf = Buffer.alloc(3);
      await this.bus.i2cRead(this.address, buf.length, buf);
      const [word] = sensirionWords(buf, this.name);
      if (word === SCD4X_FRC_FAILED)
        throw new HalError('HAL_DEVICE_ERROR', `${this.name}: forced recalibration failed (0xffff)`);
      return { points: null, correction: word! - 0x8000 };
    } finally {
      await this.command(SCD4X_START_PERIODIC_MEASUREMENT);
      this.last = undefined;
    }
  }
}
