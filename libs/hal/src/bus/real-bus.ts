import { HalError } from '../errors';
import { I2C_BUS_METHODS, type I2cBus } from './i2c-bus';

export function busPath(busNumber: number): string {
  return `/dev/i2c-${busNumber}`;
}

/** Turns an errno from the kernel into a coded error that names the bus and, when known, the address. */
export function toBusError(e: unknown, busNumber: number, address?: number): HalError {
  if (e instanceof HalError) return e;
  const err = e as NodeJS.ErrnoException;
  const at = address === undefined ? '' : ` at 0x${address.toString(16).padStart(2, '0')}`;
  const path = busPath(busNumber);
  switch (err?.code) {
    case 'ENOENT':
      return new HalError(
        'HAL_I2C_BUS_MISSING',
        `I2C bus ${path} does not exist (is I2C enabled, dtparam=i2c_arm=on?)`,
        { bus: path },
      );
    case 'EACCES':
    case 'EPERM':
      return new HalError('HAL_I2C_BUS_MISSING', `no permission to open I2C bus ${path}`, { bus: path });
    case 'EREMOTEIO':
    case 'ENXIO':
      return new HalError('HAL_I2C_NACK', `no acknowledge from device${at} on ${path}`, {
        bus: path,
        address,
      });
    case 'ETIMEDOUT':
      return new HalError('HAL_TIMEOUT', `I2C transaction${at} on ${path} timed out`, { bus: path, address });
    default:
      return new HalError('HAL_I2C_IO', `I2C error${at} on ${path}: ${err?.message ?? String(e)}`, {
        bus: path,
        address,
        errno: err?.code,
      });
  }
}

/** Gives any bus the kernel-errno → HalError mapping, so real and simulated faults read the same. */
export function withBusErrors(inner: I2cBus, busNumber: number): I2cBus {
  const raw = inner as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const wrapped = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const method of I2C_BUS_METHODS) {
    wrapped[method] = async (...args: unknown[]) => {
      try {
        return await raw[method]!.apply(inner, args);
      } catch (e) {
        throw toBusError(e, busNumber, typeof args[0] === 'number' ? args[0] : undefined);
      }
    };
  }
  return wrapped as unknown as I2cBus;
}

/**
 * The real bus through i2c-bus. Opening is lazy in i2c-bus; a missing /dev/i2c-N surfaces
 * as ENOENT on the first transaction and becomes HAL_I2C_BUS_MISSING naming the bus.
 */
export async function openRealBus(busNumber: number): Promise<I2cBus> {
  try {
    // Loaded here, not with the HAL: a simulated profile never loads the native addon.
    const { openPromisified } = await import('i2c-bus');
    return withBusErrors((await openPromisified(busNumber)) as unknown as I2cBus, busNumber);
  } catch (e) {
    throw toBusError(e, busNumber);
  }
}
