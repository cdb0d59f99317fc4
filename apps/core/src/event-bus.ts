import { EventEmitter } from 'node:events';
import type { ActuatorState, Event, ModuleConfigShape, SensorSnapshot, UpdateLockState } from './core-types';

/** Everything that happens inside the core, by name → payload. One bus, typed. */
export interface CoreBusEvents {
  /** A sensor was sampled (any quality). */
  reading: SensorSnapshot;
  /** An actuator's state was read back after a change. */
  actuator: { id: string; state: ActuatorState; ts: number; source: string };
  /** A contract event (published on MQTT, sent to telemetry, kept in the event log). */
  event: Event;
  updateLock: UpdateLockState;
  config: ModuleConfigShape;
  /** A retained `{app}/status` of the updater or tunnel arrived (raw; empty when cleared). */
  appStatus: { app: 'updater' | 'tunnel'; payload: Buffer; ts: number };
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Features subscribe once each; more than the default 10 is expected, not a leak.
    this.emitter.setMaxListeners(100);
  }

  emit<K extends keyof CoreBusEvents>(name: K, payload: CoreBusEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  /** Returns the unsubscribe function. */
  on<K extends keyof CoreBusEvents>(name: K, listener: (payload: CoreBusEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
