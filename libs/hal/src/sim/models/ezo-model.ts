import {
  EZO_CAL_MS,
  EZO_COMMAND_MS,
  EZO_NO_DATA,
  EZO_READ_MS,
  EZO_STILL_PROCESSING,
  EZO_SUCCESS,
  EZO_SYNTAX_ERROR,
} from '../../drivers/ezo';
import type { SimContext } from './sim-device';
import { SimDevice } from './sim-device';
import { ecCalibration, phCalibration, type EzoCalibrationModel } from './ezo-calibration-model';

/**
 * Atlas EZO pH / EC circuit in I2C mode: an ASCII command, then a read after the
 * processing time answers with a code byte and NUL-terminated text.
 */
export class EzoModel extends SimDevice {
  override readonly handlesBusy = true;
  private compensation = 25;
  private pending: { readyAt: number; code: number; text: string } | undefined;
  private readonly calibration: EzoCalibrationModel;

  constructor(
    name: string,
    address: number,
    ctx: SimContext,
    readonly kind: 'ph' | 'ec',
  ) {
    super(name, address, ctx);
    this.calibration = kind === 'ph' ? phCalibration() : ecCalibration();
  }

  write(data: Buffer): void {
    const text = data.toString('ascii');
    const now = this.ctx.clock.now();
    const [cmd, arg, ...rest] = text.split(',');
    if (cmd === 'i') {
      this.pending = {
        readyAt: now + EZO_COMMAND_MS,
        code: EZO_SUCCESS,
        text: `?i,${this.kind === 'ph' ? 'pH' : 'EC'},2.16`,
      };
    } else if (cmd === 'R') {
      this.pending = {
        readyAt: now + (this.kind === 'ph' ? EZO_READ_MS : 600),
        code: EZO_SUCCESS,
        text: this.measure(),
      };
    } else if (cmd === 'T' && arg !== undefined && Number.isFinite(Number(arg))) {
      this.compensation = Number(arg);
      this.pending = { readyAt: now + EZO_COMMAND_MS, code: EZO_SUCCESS, text: '' };
    } else if (cmd === 'T' && arg === '?') {
      this.pending = {
        readyAt: now + EZO_COMMAND_MS,
        code: EZO_SUCCESS,
        text: `?T,${this.compensation.toFixed(2)}`,
      };
    } else if (cmd === 'Cal' && arg === '?') {
      this.pending = {
        readyAt: now + EZO_COMMAND_MS,
        code: EZO_SUCCESS,
        text: `?CAL,${this.calibration.points()}`,
      };
    } else if (cmd === 'Cal' && arg !== undefined) {
      const accepted = this.calibration.apply([arg, ...rest], this.raw());
      const readyAt = now + (this.kind === 'ph' ? EZO_CAL_MS : 600);
      this.pending = { readyAt, code: accepted ? EZO_SUCCESS : EZO_SYNTAX_ERROR, text: '' };
    } else {
      this.pending = { readyAt: now + EZO_COMMAND_MS, code: EZO_SYNTAX_ERROR, text: '' };
    }
  }

  private measure(): string {
    const reported = this.calibration.report(this.raw());
    return this.kind === 'ph' ? reported.toFixed(3) : Math.max(0, reported).toFixed(0);
  }

  /** The value before calibration, compensated with the temperature the circuit was told (not the water's). */
  private raw(): number {
    const water = this.ctx.cabinet.environment().waterTemperature;
    if (this.kind === 'ph') {
      // Nernst slope scales with absolute temperature.
      const ph = this.sample('ph', () => this.ctx.cabinet.measure('ph', 0.01));
      const shown = 7 + ((ph - 7) * (water + 273.15)) / (this.compensation + 273.15);
      return shown;
    }
    // EC rises ~2 %/°C; the circuit reports it referred to 25 °C with its compensation temperature.
    const ec25 = this.sample('ec', () => this.ctx.cabinet.measure('ec', 5));
    const raw = ec25 * (1 + 0.02 * (water - 25));
    return Math.max(0, raw / (1 + 0.02 * (this.compensation - 25)));
  }

  read(length: number): Buffer {
    const out = Buffer.alloc(length);
    const p = this.pending;
    if (!p) {
      out[0] = EZO_NO_DATA;
    } else if (this.fault('busy') || this.ctx.clock.now() < p.readyAt) {
      out[0] = EZO_STILL_PROCESSING;
    } else {
      out[0] = p.code;
      out.write(p.text, 1, 'ascii');
      this.pending = undefined;
    }
    return out;
  }
}
