/** What every driver offers the HAL: bring-up, recovery, and named channels. */
export interface Driver {
  readonly name: string;
  /** Configure the device after power-on or reset. */
  init(): Promise<void>;
  /** Soft reset, used by recovery before init. */
  reset(): Promise<void>;
}

export interface SensorDriver extends Driver {
  readonly channels: readonly string[];
  /** One measurement of a channel, in the channel's unit; throws a HalError on any fault. */
  read(channel: string): Promise<number>;
}

export interface OutputDriver extends Driver {
  readonly outputs: readonly string[];
  /** level 0..1 (a switch uses 0 or 1). */
  write(output: string, level: number): Promise<void>;
  /** The level read back from the device's registers. */
  readBack(output: string): Promise<number>;
}

export function isSensorDriver(d: Driver): d is SensorDriver {
  return 'read' in d;
}

export function isOutputDriver(d: Driver): d is OutputDriver {
  return 'write' in d;
}

export function hex(address: number): string {
  return `0x${address.toString(16).padStart(2, '0')}`;
}
