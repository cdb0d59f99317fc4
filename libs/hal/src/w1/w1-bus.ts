import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HalError } from '../errors';

export const DEFAULT_W1_ROOT = '/sys/bus/w1';

/** The 1-Wire sysfs tree of the w1-gpio/w1_therm kernel drivers: <root>/devices/<id>/{w1_slave,temperature}. */
export interface W1Bus {
  readonly root: string;
  devices(): Promise<string[]>;
  readDeviceFile(id: string, file: 'w1_slave' | 'temperature'): Promise<string>;
}

export function fsW1Bus(root: string = DEFAULT_W1_ROOT): W1Bus {
  return {
    root,
    async devices() {
      try {
        return (await readdir(join(root, 'devices'))).filter((name) => /^[0-9a-f]{2}-/.test(name));
      } catch {
        return [];
      }
    },
    async readDeviceFile(id, file) {
      const path = join(root, 'devices', id, file);
      try {
        return await readFile(path, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          throw new HalError('HAL_W1_MISSING', `1-Wire device ${id} not found under ${root} (unplugged?)`, {
            path,
          });
        }
        throw new HalError('HAL_DEVICE_ERROR', `1-Wire read of ${path} failed: ${code ?? String(e)}`, {
          path,
        });
      }
    },
  };
}
