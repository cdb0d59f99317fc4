import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import type { StateStore } from '../state/state-store';
import type { ActuatorController } from './actuators';
import { raiseEvent } from '../state/events';

const INPUTS = ['air_temperature', 'air_humidity'] as const;

/** The fan decision with hysteresis: on above either upper limit, off only below both lower limits. */
export function fanShouldRun(
  c: { fanOnAboveC: number; fanOffBelowC: number; fanOnAboveHumidity: number; fanOffBelowHumidity: number },
  temperature: number,
  humidity: number,
  running: boolean,
): boolean {
  if (temperature > c.fanOnAboveC || humidity > c.fanOnAboveHumidity) return true;
  if (temperature < c.fanOffBelowC && humidity < c.fanOffBelowHumidity) return false;
  return running;
}

/** Fan on air temperature and humidity. With a stale or failed input it stops acting and says so. */
export class ClimateControl implements Feature {
  readonly name = 'climate';
  private timer?: NodeJS.Timeout;
  /** The last decision applied; a manual fan command holds until the decision changes. */
  private decided?: boolean;
  private stale = false;
  private offReading?: () => void;

  constructor(
    private readonly actuators: ActuatorController,
    private readonly store: StateStore,
    private readonly config: ConfigHolder,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.actuators.role('fan') === undefined) return;
    this.offReading = this.bus.on('reading', (r) => {
      if ((INPUTS as readonly string[]).includes(r.id)) void this.tick();
    });
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.offReading?.();
  }

  private async tick(): Promise<void> {
    const { climate, thresholds } = this.config.get();
    if (!climate.enabled) return;
    const now = this.now();
    const [t, h] = INPUTS.map((id) => this.store.freshValue(id, thresholds.staleAfterMs, now));
    if (t === null || h === null || t === undefined || h === undefined) {
      if (!this.stale) {
        this.stale = true;
        const missing = INPUTS.filter(
          (id) => this.store.freshValue(id, thresholds.staleAfterMs, now) === null,
        );
        raiseEvent(
          this.bus,
          'control.stale',
          'warning',
          `climate control paused: no fresh ${missing.join(' and ')}`,
          {
            loop: 'climate',
            sensors: missing,
          },
        );
      }
      return;
    }
    if (this.stale) {
      this.stale = false;
      raiseEvent(this.bus, 'control.resumed', 'info', 'climate control resumed: inputs are fresh again', {
        loop: 'climate',
      });
    }
    const fan = this.actuators.roleId('fan');
    const run = fanShouldRun(climate, t, h, this.decided ?? this.actuators.isOn(fan));
    if (run === this.decided) return;
    try {
      await this.actuators.set(fan, { level: run ? climate.fanLevel : 0 }, 'climate');
      this.decided = run;
    } catch (e) {
      raiseEvent(
        this.bus,
        'control.error',
        'error',
        `climate control could not set the fan: ${(e as Error).message}`,
        {
          loop: 'climate',
        },
      );
    }
  }
}
