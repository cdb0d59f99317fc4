import type { SimFault } from '../types';

/** The faults currently injected, by device name. */
export class FaultTable {
  private readonly faults = new Map<string, Set<SimFault>>();

  inject(device: string, fault: SimFault): void {
    const set = this.faults.get(device) ?? new Set<SimFault>();
    set.add(fault);
    this.faults.set(device, set);
  }

  clear(device?: string): void {
    if (device === undefined) this.faults.clear();
    else this.faults.delete(device);
  }

  has(device: string, fault: SimFault): boolean {
    return this.faults.get(device)?.has(fault) ?? false;
  }
}

import type { Clock } from '../clock';

/** How long a 'slow' device holds a transaction (clock ms): longer than any transaction timeout. */
export const SLOW_DEVICE_MS = 5000;

/**
 * A slow device's hold: SLOW_DEVICE_MS on the clock and at least `realMs` of real time, so it
 * outlasts the timeout meant to catch it whatever the time scale (timeouts have a real floor).
 */
export async function holdLikeASlowDevice(clock: Clock, realMs: number): Promise<void> {
  await Promise.all([clock.sleep(SLOW_DEVICE_MS), new Promise((resolve) => setTimeout(resolve, realMs))]);
}

export function remoteIoError(): NodeJS.ErrnoException {
  return Object.assign(new Error('EREMOTEIO, Remote I/O error'), { code: 'EREMOTEIO', errno: -121 });
}
