import type { Compensation } from '@growoff/hal';
import type { SensorQuality, UpdateLock } from '@growoff/protocol';
import type { ModuleConfig } from './config/module-config';

export type { Event } from '@growoff/protocol';
/** As read back from the device; `unknown` while it cannot be confirmed (treated as on, driven to safe). */
export type ActuatorState = { state: 'on' | 'off' | 'unknown' } | { level: number };
export type ModuleConfigShape = ModuleConfig;
export type UpdateLockState = UpdateLock;

/** The latest sample of one sensor as the core keeps and serves it. */
export interface SensorSnapshot {
  id: string;
  value: number | null;
  unit: string;
  quality: SensorQuality;
  ts: number;
  error?: string;
  /** The temperature a compensated reading used; `default` or `previous` makes it less exact. */
  compensation?: Compensation;
}

/** A feature of the core: started in order, stopped in reverse order. */
export interface Feature {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}
