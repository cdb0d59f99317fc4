import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dallasCrc8 } from '../crc';
import { TIMER_FLOOR_REAL_MS } from '../clock';
import { holdLikeASlowDevice } from './faults';
import { DS18B20_POWER_ON_MILLIDEGREES } from '../drivers/ds18b20';
import { fsW1Bus, type W1Bus } from '../w1/w1-bus';
import type { SimContext } from './models/sim-device';

/** DS18B20 conversion time at 12-bit resolution (datasheet Table 2: 750 ms). */
export const DS18B20_CONVERSION_MS = 750;

/** The DS18B20 scratchpad for a temperature (datasheet Figure 9), CRC in byte 8. */
export function ds18b20Scratchpad(celsius: number): number[] {
  const raw = Math.round(celsius * 16) & 0xffff;
  const bytes = [raw & 0xff, raw >> 8, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10];
  return [...bytes, dallasCrc8(bytes)];
}

/** The w1_slave text w1_therm writes for a scratchpad. */
export function w1SlaveText(scratchpad: number[], crcOk: boolean): string {
  const hex = scratchpad.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const lsb = scratchpad[0]!;
  const msb = scratchpad[1]!;
  // w1_therm: millidegrees = raw * 1000 / 16 in integer arithmetic (truncating).
  const millis = Math.trunc(((((msb << 8) | lsb) << 16) >> 16) * 62.5);
  return `${hex} : crc=${hex.slice(-2)} ${crcOk ? 'YES' : 'NO'}\n${hex} t=${millis}\n`;
}

/**
 * A sysfs-like 1-Wire tree in a folder. Like the kernel, each read of a device file
 * runs a conversion first (750 ms), so the file holds the water temperature of now.
 */
export class SimulatedW1 {
  private readonly devices = new Map<string, string>(); // w1 id → device name

  constructor(
    readonly root: string,
    private readonly ctx: SimContext,
  ) {}

  async add(id: string, name: string): Promise<void> {
    this.devices.set(id, name);
    await mkdir(join(this.root, 'devices', id), { recursive: true });
    await this.refresh(id);
  }

  private async refresh(id: string): Promise<void> {
    const name = this.devices.get(id)!;
    const dir = join(this.root, 'devices', id);
    const has = (f: Parameters<SimContext['faults']['has']>[1]) => this.ctx.faults.has(name, f);
    if (has('unplugged')) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    await mkdir(dir, { recursive: true });
    let slave: string;
    let temperature: string;
    if (has('empty-read') || has('nack')) {
      slave = '';
      temperature = '';
    } else {
      const celsius = has('power-on-85')
        ? DS18B20_POWER_ON_MILLIDEGREES / 1000
        : this.frozenOr(id, () => this.ctx.cabinet.measure('waterTemperature', 0.03));
      // zero-read: the data line held low reads a scratchpad of zeros, whose CRC (0) checks out.
      const pad = has('zero-read') ? Array<number>(9).fill(0) : ds18b20Scratchpad(celsius);
      const crcOk = !has('crc');
      if (!crcOk) pad[8] = pad[8]! ^ 0x5a;
      slave = w1SlaveText(pad, crcOk);
      temperature = !crcOk
        ? ''
        : has('zero-read')
          ? '0\n'
          : `${Math.trunc(Math.round(celsius * 16) * 62.5)}\n`;
    }
    await writeFile(join(dir, 'w1_slave'), slave);
    await writeFile(join(dir, 'temperature'), temperature);
  }

  private readonly frozen = new Map<string, number>();
  private frozenOr(id: string, take: () => number): number {
    const last = this.frozen.get(id);
    const name = this.devices.get(id)!;
    if (this.ctx.faults.has(name, 'stuck') && last !== undefined) return last;
    const value = take();
    this.frozen.set(id, value);
    return value;
  }

  /** The W1Bus a driver reads through: the real file reader, with the conversion run before each read. */
  bus(): W1Bus {
    const files = fsW1Bus(this.root);
    return {
      root: this.root,
      devices: async () => {
        await Promise.all([...this.devices.keys()].map((id) => this.refreshPresence(id)));
        return files.devices();
      },
      readDeviceFile: async (id, file) => {
        if (this.devices.has(id)) {
          if (this.ctx.faults.has(this.devices.get(id)!, 'slow'))
            await holdLikeASlowDevice(this.ctx.clock, 2 * TIMER_FLOOR_REAL_MS);
          await this.ctx.clock.sleep(DS18B20_CONVERSION_MS);
          await this.refresh(id);
        }
        return files.readDeviceFile(id, file);
      },
    };
  }

  private async refreshPresence(id: string): Promise<void> {
    const name = this.devices.get(id)!;
    if (this.ctx.faults.has(name, 'unplugged'))
      await rm(join(this.root, 'devices', id), { recursive: true, force: true });
    else await mkdir(join(this.root, 'devices', id), { recursive: true });
  }
}
