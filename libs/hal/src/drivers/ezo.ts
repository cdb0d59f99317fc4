import type { Clock } from '../clock';
import { HalError } from '../errors';
import type { I2cBus } from '../bus/i2c-bus';
import { hex, type SensorDriver } from './driver';
import {
  ezoCalibrationText,
  parseEzoCalibration,
  type CalibrationCommand,
  type DeviceCalibration,
} from './probe-calibration';

// Atlas Scientific EZO pH / EC datasheets, "I2C mode": response codes of the first byte.
export const EZO_SUCCESS = 1;
export const EZO_SYNTAX_ERROR = 2;
export const EZO_STILL_PROCESSING = 254;
export const EZO_NO_DATA = 255;
/** "R" takes 900 ms (pH: 900 ms, EC: 600 ms; 900 ms covers both). */
export const EZO_READ_MS = 900;
/** The temperature a circuit compensates for until told otherwise ("T,?" after a factory reset). */
export const EZO_DEFAULT_COMPENSATION_C = 25;
/** "Cal,...": 900 ms (pH; EC: 600 ms). */
export const EZO_CAL_MS = 900;
/** "T,n", "i", "Status", "Cal,?": 300 ms. */
export const EZO_COMMAND_MS = 300;
const RESPONSE_BYTES = 32;

/** Decodes an EZO response: a code byte, then ASCII up to the NUL terminator. */
export function parseEzoResponse(buf: Buffer, device: string): string {
  const code = buf[0];
  switch (code) {
    case EZO_SUCCESS: {
      const end = buf.indexOf(0, 1);
      return buf.subarray(1, end < 0 ? buf.length : end).toString('ascii');
    }
    case EZO_STILL_PROCESSING:
      throw new HalError('HAL_DEVICE_BUSY', `${device}: still processing (response code 254)`);
    case EZO_NO_DATA:
      throw new HalError('HAL_DEVICE_ERROR', `${device}: no data to send (response code 255)`);
    case EZO_SYNTAX_ERROR:
      throw new HalError('HAL_DEVICE_ERROR', `${device}: syntax error (response code 2)`, {
        responseCode: EZO_SYNTAX_ERROR,
      });
    default:
      throw new HalError('HAL_DEVICE_ERROR', `${device}: unknown response code ${code}`);
  }
}

export class Ezo implements SensorDriver {
  readonly channels: readonly string[];
  private compensation: number | undefined;

  constructor(
    readonly name: string,
    readonly kind: 'ph' | 'ec',
    private readonly bus: I2cBus,
    private readonly address: number,
    private readonly clock: Clock,
  ) {
    this.channels = [kind];
  }

  /** Sends an ASCII command, waits its processing time, and reads the response. */
  async command(text: string, waitMs: number): Promise<string> {
    const out = Buffer.from(text, 'ascii');
    await this.bus.i2cWrite(this.address, out.length, out);
    await this.clock.sleep(waitMs);
    const buf = Buffer.alloc(RESPONSE_BYTES);
    await this.bus.i2cRead(this.address, buf.length, buf);
    return parseEzoResponse(buf, `${this.name} (EZO ${this.kind} ${hex(this.address)})`);
  }

  async init(): Promise<void> {
    const info = await this.command('i', EZO_COMMAND_MS); // "?i,pH,2.10" / "?i,EC,2.10"
    const type = info.split(',')[1]?.toLowerCase();
    if (type !== this.kind) {
      throw new HalError(
        'HAL_DEVICE_ERROR',
        `${this.name}: expected an EZO ${this.kind} circuit, found "${info}"`,
      );
    }
    if (this.compensation !== undefined) await this.setTemperature(this.compensation);
  }

  async reset(): Promise<void> {
    // The EZO has no soft reset over I2C short of a factory reset; waking it ("i") suffices.
    await this.clock.sleep(EZO_COMMAND_MS);
  }

  /** "T,n": temperature compensation in °C, kept by the circuit for following reads. */
  async setTemperature(celsius: number): Promise<void> {
    await this.command(`T,${celsius.toFixed(1)}`, EZO_COMMAND_MS);
    this.compensation = Number(celsius.toFixed(1));
  }

  compensationTemperature(): number | undefined {
    return this.compensation;
  }

  async read(): Promise<number> {
    const text = await this.command('R', EZO_READ_MS);
    // The EC circuit may report EC,TDS,S,SG; EC comes first.
    const value = Number(text.split(',')[0]);
    if (!Number.isFinite(value))
      throw new HalError('HAL_DEVICE_ERROR', `${this.name}: unreadable value "${text}"`);
    return value;
  }

  /** One calibration step ("Cal,mid,7.00", "Cal,dry", ...); a step the circuit refuses (code 2) is HAL_BAD_COMMAND. */
  async calibrate(c: CalibrationCommand): Promise<DeviceCalibration> {
    const text = ezoCalibrationText(this.kind, c);
    try {
      await this.command(text, EZO_CAL_MS);
    } catch (e) {
      if (e instanceof HalError && e.details?.['responseCode'] === EZO_SYNTAX_ERROR) {
        throw new HalError('HAL_BAD_COMMAND', `${this.name}: the circuit refused "${text}"`);
      }
      throw e;
    }
    return this.calibration();
  }

  /** "Cal,?" → "?CAL,n": how many points the circuit holds. */
  async calibration(): Promise<DeviceCalibration> {
    return { points: parseEzoCalibration(await this.command('Cal,?', EZO_COMMAND_MS), this.name) };
  }
}
