import type { ActuatorState, Event, SensorSnapshot } from '../core-types';

const EVENT_LOG_SIZE = 500;

/** The latest known state of the cabinet: last sample per sensor, last read-back per actuator, recent events. */
export class StateStore {
  private readonly sensors = new Map<string, SensorSnapshot>();
  /** When each sensor's last sample arrived, on the monotonic clock. */
  private readonly arrived = new Map<string, number>();
  private readonly actuators = new Map<string, { state: ActuatorState; ts: number }>();
  private readonly events: Event[] = [];
  private readingsChanges = 0;

  /**
   * `monotonic`: milliseconds that only move forward (`performance.now()`), for the age of a
   * reading: a sample's `ts` is wall-clock time, which NTP may step back (SAFETY.md, C2).
   */
  constructor(private readonly monotonic: () => number = () => performance.now()) {}

  setReading(s: SensorSnapshot): void {
    this.sensors.set(s.id, s);
    this.arrived.set(s.id, this.monotonic());
    this.readingsChanges++;
  }

  /**
   * How old a sensor's last sample is at wall-clock `now`: the larger of its wall-clock age
   * (`now − ts`) and the monotonic time since it arrived. A wall clock stepped back cannot make a
   * reading that stopped arriving look fresh; one stepped forward makes it look older (the safe side).
   */
  ageMs(id: string, now: number): number | undefined {
    const s = this.sensors.get(id);
    if (!s) return undefined;
    return Math.max(now - s.ts, this.monotonic() - this.arrived.get(id)!);
  }

  /** Changes with every `setReading`: what was built from the readings is current while it stays the same. */
  get readingsVersion(): number {
    return this.readingsChanges;
  }

  reading(id: string): SensorSnapshot | undefined {
    return this.sensors.get(id);
  }

  readings(): SensorSnapshot[] {
    return [...this.sensors.values()];
  }

  /** The value of a sensor if its last sample is good and younger than maxAgeMs (`ageMs`), else null. */
  freshValue(id: string, maxAgeMs: number, now: number): number | null {
    const s = this.sensors.get(id);
    if (!s || s.quality !== 'ok' || s.value === null || this.ageMs(id, now)! > maxAgeMs) return null;
    return s.value;
  }

  setActuator(id: string, state: ActuatorState, ts: number): void {
    this.actuators.set(id, { state, ts });
  }

  actuator(id: string): { state: ActuatorState; ts: number } | undefined {
    return this.actuators.get(id);
  }

  actuatorEntries(): [string, { state: ActuatorState; ts: number }][] {
    return [...this.actuators.entries()];
  }

  addEvent(e: Event): void {
    this.events.push(e);
    if (this.events.length > EVENT_LOG_SIZE) this.events.shift();
  }

  /** Newest last. */
  recentEvents(limit: number): Event[] {
    return this.events.slice(-limit);
  }
}
