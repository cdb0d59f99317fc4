import { sensirionCrc8 } from '../../crc';
import { SHT3X_MEASURE_HIGH_NO_STRETCH, SHT3X_READ_STATUS, SHT3X_SOFT_RESET } from '../../drivers/sht3x';
import { SimDevice } from './sim-device';

/** Appends the Sensirion CRC to each 16-bit word; the 'crc' fault corrupts the first one. */
export function sensirionFrame(words: number[], corrupt: boolean): Buffer {
  const out: number[] = [];
  for (const word of words) {
    const bytes = [(word >> 8) & 0xff, word & 0xff];
    out.push(...bytes, sensirionCrc8(bytes));
  }
  if (corrupt) out[2] = out[2]! ^ 0x01;
  return Buffer.from(out);
}

const clampWord = (v: number) => Math.min(0xffff, Math.max(0, Math.round(v)));

/** SHT3x-DIS: single-shot measurements without clock stretching NACK the read until done (§4.4). */
export class Sht3xModel extends SimDevice {
  private pending: Buffer | undefined;
  private readyAt = 0;

  write(data: Buffer): void {
    if (data.length < 2) this.nack();
    const command = data.readUInt16BE(0);
    if (command === SHT3X_MEASURE_HIGH_NO_STRETCH) {
      const t = this.sample('t', () => this.ctx.cabinet.measure('airTemperature', 0.05));
      const rh = this.sample('rh', () => this.ctx.cabinet.measure('airHumidity', 0.3));
      this.readyAt = this.ctx.clock.now() + 12.5; // Table 4: typical 12.5 ms
      this.pending = sensirionFrame(
        [clampWord(((t + 45) * 65535) / 175), clampWord((rh * 65535) / 100)],
        this.fault('crc'),
      );
    } else if (command === SHT3X_READ_STATUS) {
      this.readyAt = 0;
      this.pending = sensirionFrame([0x0000], this.fault('crc'));
    } else if (command === SHT3X_SOFT_RESET) {
      this.pending = undefined;
    } else {
      this.nack();
    }
  }

  read(length: number): Buffer {
    if (!this.pending || this.ctx.clock.now() < this.readyAt) this.nack();
    const data = this.pending.subarray(0, length);
    this.pending = undefined;
    return Buffer.from(data);
  }
}
