import { ProtocolError, type Alarm, type AlarmLimit, type AlarmsMessage } from '@growoff/protocol';
import type { Feature, SensorSnapshot } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import { raiseEvent } from '../state/events';
import type { AlarmLimits } from './alarm-config';

/** Wall-clock time and timers; tests pass a manual one to step through delays exactly. */
export interface AlarmClock {
  now(): number;
  /** Calls fn after ms; returns the cancel function. */
  timer(ms: number, fn: () => void): () => void;
}

export const wallClock: AlarmClock = {
  now: () => Date.now(),
  timer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

interface LimitState {
  alarm?: Alarm;
  /** A raise (value past the limit) or clear (value back inside) waiting out the delay. */
  pending?: { to: 'raise' | 'clear'; value: number; cancel: () => void };
}

const LIMITS: readonly AlarmLimit[] = ['low', 'high'];

/**
 * Per-sensor low and high alarms from the module config. A good reading past a limit starts the
 * delay; still past when it ends, the alarm is raised. A raised alarm clears once readings are back
 * inside the limit by the hysteresis for the same delay. Readings that are not good change nothing.
 */
export class AlarmMonitor implements Feature {
  readonly name = 'alarms';
  private readonly states = new Map<string, LimitState>();
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
    private readonly clock: AlarmClock = wallClock,
  ) {}

  start(): void {
    this.offs.push(
      this.bus.on('reading', (r) => this.check(r)),
      this.bus.on('config', () => this.dropUnconfigured()),
    );
    // The retained topic says "none" after a restart until something is raised again.
    this.publish();
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    for (const s of this.states.values()) s.pending?.cancel();
  }

  active(): Alarm[] {
    return [...this.states.values()].flatMap((s) => (s.alarm ? [{ ...s.alarm }] : []));
  }

  message(): AlarmsMessage {
    return { alarms: this.active(), ts: this.clock.now() };
  }

  acknowledge(sensor: string, limit: AlarmLimit, by: string): Alarm {
    const s = this.states.get(key(sensor, limit));
    if (!s?.alarm)
      throw new ProtocolError('NOT_FOUND', `no active ${limit} alarm on ${sensor}`, {
        active: this.active().map((a) => ({ sensor: a.sensor, limit: a.limit })),
      });
    if (!s.alarm.acknowledged) {
      s.alarm.acknowledged = true;
      raiseEvent(
        this.bus,
        'alarm.acknowledged',
        'info',
        `${sensor} ${limit} alarm acknowledged`,
        {
          ...s.alarm,
          by,
        },
        this.clock.now(),
      );
      this.publish();
    }
    return { ...s.alarm };
  }

  private limitsOf(sensor: string): AlarmLimits | undefined {
    return this.config.get().alarms?.limits[sensor];
  }

  private check(r: SensorSnapshot): void {
    const value = r.value;
    if (r.quality !== 'ok' || value === null) return;
    const limits = this.limitsOf(r.id);
    if (!limits) return;
    for (const limit of LIMITS) {
      const threshold = limits[limit];
      if (threshold === undefined) continue;
      const past = limit === 'high' ? value > threshold : value < threshold;
      const back =
        limit === 'high' ? value <= threshold - limits.hysteresis : value >= threshold + limits.hysteresis;
      const state = this.stateOf(r.id, limit);
      const want = state.alarm ? (back ? 'clear' : undefined) : past ? 'raise' : undefined;
      if (want === undefined) {
        // The condition broke before the delay ended: start over next time.
        state.pending?.cancel();
        state.pending = undefined;
      } else if (state.pending?.to === want) {
        state.pending.value = value;
      } else {
        state.pending?.cancel();
        if (limits.delayS === 0) {
          state.pending = undefined;
          this.settle(r.id, limit, want, value, threshold);
        } else {
          const cancel = this.clock.timer(limits.delayS * 1000, () =>
            this.settle(r.id, limit, want, state.pending?.value ?? value, threshold),
          );
          state.pending = { to: want, value, cancel };
        }
      }
    }
  }

  private settle(
    sensor: string,
    limit: AlarmLimit,
    to: 'raise' | 'clear',
    value: number,
    threshold: number,
  ): void {
    const state = this.stateOf(sensor, limit);
    state.pending = undefined;
    const now = this.clock.now();
    if (to === 'raise') {
      state.alarm = { sensor, limit, value, since: now, acknowledged: false, threshold };
      raiseEvent(
        this.bus,
        'alarm.raised',
        'warning',
        `${sensor} is ${limit === 'high' ? 'above' : 'below'} its ${limit} limit ${threshold}: ${value}`,
        state.alarm,
        now,
      );
    } else {
      this.clear(sensor, limit, `${sensor} is back inside its ${limit} limit: ${value}`, { value });
    }
    this.publish();
  }

  private clear(sensor: string, limit: AlarmLimit, message: string, extra: Record<string, unknown>): void {
    const state = this.stateOf(sensor, limit);
    if (!state.alarm) return;
    const alarm = state.alarm;
    state.alarm = undefined;
    raiseEvent(this.bus, 'alarm.cleared', 'info', message, { ...alarm, ...extra }, this.clock.now());
  }

  /** A limit taken out of the config takes its alarm and any pending delay with it. */
  private dropUnconfigured(): void {
    let changed = false;
    for (const [k, s] of this.states) {
      const [sensor, limit] = k.split('\u0000') as [string, AlarmLimit];
      if (this.limitsOf(sensor)?.[limit] !== undefined) continue;
      s.pending?.cancel();
      s.pending = undefined;
      if (s.alarm) {
        this.clear(sensor, limit, `${sensor} ${limit} alarm cleared: its limit was removed`, {
          reason: 'config',
        });
        changed = true;
      }
    }
    if (changed) this.publish();
  }

  private stateOf(sensor: string, limit: AlarmLimit): LimitState {
    const k = key(sensor, limit);
    let s = this.states.get(k);
    if (!s) this.states.set(k, (s = {}));
    return s;
  }

  private publish(): void {
    this.bus.emit('alarms', this.message());
  }
}

function key(sensor: string, limit: AlarmLimit): string {
  return `${sensor}\u0000${limit}`;
}
