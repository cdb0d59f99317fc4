import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import type { ModuleConfig } from '../config/module-config';
import type { ActuatorController } from './actuators';
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

/** Drives the light from the photoperiod; a manual command holds until the schedule's level changes. */
export class LightSchedule implements Feature {
  readonly name = 'light-schedule';
  private timer?: NodeJS.Timeout;
  private lastApplied?: number;
  private offConfig?: () => void;

  constructor(
    private readonly actuators: ActuatorController,
    private readonly config: ConfigHolder,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
    private readonly tickMs = 10_000,
  ) {}

  start(): void {
    if (this.actuators.role('light') === undefined) return;
    this.offConfig = this.bus.on('config', () => {
      this.lastApplied = undefined;
      void this.tick();
    });
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.offConfig?.();
  }

  private async tick(): Promise<void> {
    const light = this.config.get().light;
    if (!light.enabled) return;
    const d = new Date(this.now());
    const level = lightLevelAt(light, d.getHours() * 60 + d.getMinutes() + d.getSeconds() / 60);
    if (level === this.lastApplied) return;
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
