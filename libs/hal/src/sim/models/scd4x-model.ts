import {
  SCD4X_GET_DATA_READY_STATUS,
  SCD4X_PERFORM_FORCED_RECALIBRATION,
  SCD4X_MEASUREMENT_INTERVAL_MS,
  SCD4X_READ_MEASUREMENT,
  SCD4X_REINIT,
  SCD4X_START_PERIODIC_MEASUREMENT,
  SCD4X_STOP_PERIODIC_MEASUREMENT,
} from '../../drivers/scd4x';
import { SimDevice } from './sim-device';
import { sensirionFrame } from './sht3x-model';

const clampWord = (v: number) => Math.min(0xffff, Math.max(0, Math.round(v)));

/** SCD4x: idle after power-up; periodic mode produces a measurement every 5 s (§3.5). */
export class Scd4xModel extends SimDevice {
  private startedAt: number | undefined;
  private consumed = 0; // measurements already read in this periodic run
  private response: Buffer | undefined;
  /** What forced recalibration added to the sensor's own reading (ppm). */
  private frcOffset = 0;

  private available(): number {
    if (this.startedAt === undefined) return 0;
    return Math.floor((this.ctx.clock.now() - this.startedAt) / SCD4X_MEASUREMENT_INTERVAL_MS);
  }

  write(data: Buffer): void {
    if (data.length < 2) this.nack();
    const command = data.readUInt16BE(0);
    const periodic = this.startedAt !== undefined;
    switch (command) {
      case SCD4X_START_PERIODIC_MEASUREMENT:
        if (periodic) this.nack();
        this.startedAt = this.ctx.clock.now();
        this.consumed = 0;
        return;
      case SCD4X_STOP_PERIODIC_MEASUREMENT:
        this.startedAt = undefined;
        return;
      case SCD4X_PERFORM_FORCED_RECALIBRATION: {
        if (periodic || data.length < 5) this.nack(); // only in idle mode (§3.7.1)
        const target = data.readUInt16BE(2);
        const measured = this.ctx.cabinet.measure('co2', 10);
        const before = this.frcOffset;
        this.frcOffset = target - measured;
        this.response = sensirionFrame([clampWord(0x8000 + this.frcOffset - before)], false);
        return;
      }
      case SCD4X_REINIT:
        if (periodic) this.nack(); // only in idle mode (§3.9.6)
        return;
      case SCD4X_GET_DATA_READY_STATUS:
        this.response = sensirionFrame([this.available() > this.consumed ? 0x8006 : 0x8000], false);
        return;
      case SCD4X_READ_MEASUREMENT: {
        if (!periodic) this.nack();
        this.consumed = this.available();
        const co2 = this.sample('co2', () => this.ctx.cabinet.measure('co2', 10) + this.frcOffset);
        const t = this.sample('t', () => this.ctx.cabinet.measure('airTemperature', 0.1));
        const rh = this.sample('rh', () => this.ctx.cabinet.measure('airHumidity', 0.5));
        this.response = sensirionFrame(
          [clampWord(co2), clampWord(((t + 45) * 65535) / 175), clampWord((rh * 65535) / 100)],
          this.fault('crc'),
        );
        return;
      }
      default:
        this.nack();
    }
  }

  read(length: number): Buffer {
    if (!this.response) this.nack();
    const data = this.response.subarray(0, length);
    this.response = undefined;
    return Buffer.from(data);
  }
}
