import type { UpdatePhase } from './simulated-module';
import type { SimSensor } from './sim-profile';

/** What one worker process is asked to run. */
export interface WorkerConfig {
  url: string;
  modules: ReadonlyArray<{ id: string; password?: string }>;
  channel: string;
  /** PEM public keys the simulated updaters trust. */
  trustedKeysPem: string[];
  version: string;
  image: string;
  sensors: readonly SimSensor[];
  downloadMs: readonly [number, number];
  installMs: number;
  /** How many modules of this worker connect at once. */
  connectConcurrency: number;
}

export interface WorkerStats {
  modules: number;
  connected: number;
  readings: number;
  installs: number;
  rejected: number;
  phases: Partial<Record<UpdatePhase, number>>;
  versions: Record<string, number>;
}

export type ToWorker = { type: 'start'; config: WorkerConfig } | { type: 'stop' };

export type FromWorker =
  | { type: 'started'; stats: WorkerStats }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };
