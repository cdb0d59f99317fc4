import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import type { ModuleConfig } from '../config/module-config';
import type { ActuatorController } from './actuators';
import type { LightLimit } from './climate';
import { localMinuteOfDay } from './local-time';
import { raiseEvent } from '../state/events';

const DAY = 24 * 60;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/**
 * The light level (0..100) the photoperiod asks for at a minute of the day: off at night, ramping
 * up over rampMinutes from `on` (sunrise), full during the day, ramping down over the rampMinutes
 * before `off` (sunset). Days that cross midnight (on > off) work the same way.
 */
export function lightLevelAt(light: ModuleConfig['light'], minuteOfDay: number): number {
  const on = minutes(light.on);
  const length = (minutes(light.off) - on + DAY) % DAY;
  const sinceOn = (minuteOfDay - on + DAY) % DAY;
  if (sinceOn >= length) return 0;
  const ramp = Math.min(light.rampMinutes, length / 2);
  if (ramp === 0) return light.level;
  const untilOff = length - sinceOn;
  const factor = Math.min(1, sinceOn / ramp, untilOff / ramp);
  return Math.round(light.level * factor * 10) / 10;
}

/**
 * Drives the light from the photoperiod, in the module's time zone (config `timezone`), so it
 * follows local time across daylight-saving changes whatever the process's own zone. A manual
 * command holds until the schedule's level changes. The climate's limit (over-temperature,
 * unknown temperature) caps the level, also while the schedule is disabled.
 */
export class LightSchedule implements Feature {
  readonly name = 'light-schedule';
  private timer?: NodeJS.Timeout;
  private lastApplied?: number;
  private limit: LightLimit | null = null;
  /** The light's level as last read back, whoever set it. */
  private current?: number;
  private offs: (() => void)[] = [];

  constructor(
    private readonly actuators: ActuatorController,
    private readonly config: ConfigHolder,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
    private readonly tickMs = 10_000,
  ) {}

  start(): void {
    const light = this.actuators.role('light');
    if (light === undefined) return;
    const retick = () => {
      this.lastApplied = undefined;
      void this.tick();
    };
    this.offs.push(
      this.bus.on('config', retick),
      this.bus.on('lightLimit', (limit) => {
        this.limit = limit;
        retick();
      }),
      this.bus.on('actuator', (a) => {
        if (a.id === light)
          this.current = 'level' in a.state ? a.state.level : a.state.state === 'on' ? 100 : 0;
      }),
    );
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const off of this.offs) off();
    this.offs = [];
  }

  /** The level the schedule and the climate's limit ask for now; undefined: leave the light alone. */
  target(): number | undefined {
    const { light, timezone } = this.config.get();
    const cap = this.limit?.level ?? 100;
    if (!light.enabled) {
      // Manual control, but a climate limit still dims a light above it.
      return this.current !== undefined && this.current > cap ? cap : undefined;
    }
    return Math.min(lightLevelAt(light, localMinuteOfDay(this.now(), timezone)), cap);
  }

  async tick(): Promise<void> {
    const level = this.target();
    if (level === undefined || level === this.lastApplied) return;
    try {
      await this.actuators.set(this.actuators.roleId('light'), { level }, 'schedule');
      this.lastApplied = level;
    } catch (e) {
      raiseEvent(
        this.bus,
        'control.error',
        'error',
        `light schedule could not set the light: ${(e as Error).message}`,
        {
          loop: 'light',
        },
      );
    }
  }
}
