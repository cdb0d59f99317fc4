import type { Clock } from '../../clock';
import type { SimFault } from '../../types';
import type { Cabinet } from '../cabinet';
import { remoteIoError, type FaultTable } from '../faults';

export interface SimContext {
  clock: Clock;
  cabinet: Cabinet;
  faults: FaultTable;
}

/** A register-level device model: raw I2C writes and reads as the chip sees them. */
export abstract class SimDevice {
  private readonly frozen = new Map<string, number>();
  /** Devices with their own notion of busy (EZO's code 254); others NACK while busy. */
  readonly handlesBusy: boolean = false;

  constructor(
    readonly name: string,
    readonly address: number,
    protected readonly ctx: SimContext,
  ) {}

  abstract write(data: Buffer): void;
  abstract read(length: number): Buffer;
  /** A brown-out: every register back to its power-on value (output chips only). */
  powerCycle?(): void;

  protected fault(fault: SimFault): boolean {
    return this.ctx.faults.has(this.name, fault);
  }

  /** A sample that stays frozen while the 'stuck' fault is injected. */
  protected sample(key: string, take: () => number): number {
    const last = this.frozen.get(key);
    if (this.fault('stuck') && last !== undefined) return last;
    const value = take();
    this.frozen.set(key, value);
    return value;
  }

  protected nack(): never {
    throw remoteIoError();
  }
}
