import { EventEmitter } from 'node:events';
import {
  DEFAULT_EVENT_RATE_LIMIT,
  EventRateLimiter,
  type AlarmsMessage,
  type EventRateLimit,
} from '@growoff/protocol';
import type { ActuatorState, Event, ModuleConfigShape, SensorSnapshot, UpdateLockState } from './core-types';
import type { LightLimit } from './control/climate';

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
  /** What the climate loop allows the light at most (over-temperature, unknown temperature). */
  lightLimit: LightLimit | null;
  /** The active alarms changed (published retained on `alarms`). */
  alarms: AlarmsMessage;
  /** A retained `{app}/status` of the updater or tunnel arrived (raw; empty when cleared). */
  appStatus: { app: 'updater' | 'tunnel'; payload: Buffer; ts: number };
}

export interface EventBusOptions {
  /** Contract events per type and window; beyond it they are summarised (see EventRateLimiter). */
  eventRateLimit?: EventRateLimit;
  now?: () => number;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly limiter: EventRateLimiter;

  constructor(options: EventBusOptions = {}) {
    // Features subscribe once each; more than the default 10 is expected, not a leak.
    this.emitter.setMaxListeners(100);
    this.limiter = new EventRateLimiter(
      options.eventRateLimit ?? DEFAULT_EVENT_RATE_LIMIT,
      (summary) => this.emitter.emit('event', summary),
      options.now,
    );
  }

  /** A contract event beyond its type's rate limit is held back and counted in a summary. */
  emit<K extends keyof CoreBusEvents>(name: K, payload: CoreBusEvents[K]): void {
    if (name === 'event' && !this.limiter.admit(payload as Event)) return;
    this.emitter.emit(name, payload);
  }

  /** Raises the summaries of event floods still in their window (on shutdown). */
  flushEventSummaries(): void {
    this.limiter.flush();
  }

  /** Returns the unsubscribe function. */
  on<K extends keyof CoreBusEvents>(name: K, listener: (payload: CoreBusEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
