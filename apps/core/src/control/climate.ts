import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import type { ModuleConfig } from '../config/module-config';
import type { StateStore } from '../state/state-store';
import type { ActuatorController } from './actuators';
import { raiseEvent } from '../state/events';

const TEMPERATURE = 'air_temperature';
const HUMIDITY = 'air_humidity';
const INPUTS = [TEMPERATURE, HUMIDITY] as const;

type Climate = ModuleConfig['climate'];

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

/** Over-temperature with hysteresis: from above overTemperatureC until below overTemperatureClearC. */
export function isOverTemperature(c: Climate, temperature: number, was: boolean): boolean {
  if (temperature > c.overTemperatureC) return true;
  if (temperature < c.overTemperatureClearC) return false;
  return was;
}

export interface LightLimit {
  level: number;
  reason: 'over_temperature' | 'temperature_unknown';
}

/**
 * What the climate asks of the light: dimmed on over-temperature, held at a fail-safe level while
 * the temperature is unknown (an over-temperature could not be seen), free otherwise.
 */
export function lightLimitFor(c: Climate, temperature: number | null, over: boolean): LightLimit | null {
  const limits: LightLimit[] = [];
  if (over) limits.push({ level: c.overTemperatureLightLevel, reason: 'over_temperature' });
  if (temperature === null) limits.push({ level: c.staleLightLevel, reason: 'temperature_unknown' });
  // Both at once (hot, then the sensor fails): the lower level holds.
  return limits.reduce<LightLimit | null>((low, l) => (low === null || l.level < low.level ? l : low), null);
}

/**
 * The fan level the climate asks for: the fail-safe level while an input is unknown, full on
 * over-temperature, else the hysteresis decision.
 */
export function fanLevelFor(
  c: Climate,
  temperature: number | null,
  humidity: number | null,
  over: boolean,
  running: boolean,
): number {
  if (over) return 100;
  if (temperature === null || humidity === null) return c.staleFanLevel;
  return fanShouldRun(c, temperature, humidity, running) ? c.fanLevel : 0;
}

/**
 * Fan on air temperature and humidity, and the over-temperature reaction. With a stale or failed
 * input the fan goes to its fail-safe level and the light is capped, each announced by an event.
 */
export class ClimateControl implements Feature {
  readonly name = 'climate';
  private timer?: NodeJS.Timeout;
  /** The last fan level applied; a manual fan command holds until the decision changes. */
  private decided?: number;
  private stale = false;
  private over = false;
  private limit: LightLimit | null = null;
  private offReading?: () => void;

  constructor(
    private readonly actuators: ActuatorController,
    private readonly store: StateStore,
    private readonly config: ConfigHolder,
    private readonly bus: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.offReading = this.bus.on('reading', (r) => {
      if ((INPUTS as readonly string[]).includes(r.id)) void this.tick();
    });
    // Inputs that stop arriving go stale without any reading event: check on a clock too.
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.offReading?.();
  }

  /** One decision from the inputs as they are now (the clock and the readings call it). */
  async tick(): Promise<void> {
    const { climate, thresholds } = this.config.get();
    const now = this.now();
    const t = this.store.freshValue(TEMPERATURE, thresholds.staleAfterMs, now);
    const h = this.store.freshValue(HUMIDITY, thresholds.staleAfterMs, now);
    this.watchStale(t, h);
    this.watchTemperature(climate, t);
    const limit = lightLimitFor(climate, t, this.over);
    if (limit?.level !== this.limit?.level || limit?.reason !== this.limit?.reason) {
      this.limit = limit;
      this.bus.emit('lightLimit', limit);
    }
    const fan = this.actuators.role('fan');
    if (!climate.enabled || fan === undefined) return;
    const running = this.decided === undefined ? this.actuators.isOn(fan) : this.decided > 0;
    const level = fanLevelFor(climate, t, h, this.over, running);
    if (level === this.decided) return;
    try {
      await this.actuators.set(fan, { level }, 'climate');
      this.decided = level;
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

  private watchStale(t: number | null, h: number | null): void {
    const missing = INPUTS.filter((_, i) => [t, h][i] === null);
    if (missing.length > 0 && !this.stale) {
      this.stale = true;
      const { climate } = this.config.get();
      raiseEvent(
        this.bus,
        'control.stale',
        'warning',
        `climate control fail-safe: no fresh ${missing.join(' and ')}; fan at ${climate.staleFanLevel} %` +
          (t === null ? `, light at most ${climate.staleLightLevel} %` : ''),
        { loop: 'climate', sensors: missing },
      );
    } else if (missing.length === 0 && this.stale) {
      this.stale = false;
      raiseEvent(this.bus, 'control.resumed', 'info', 'climate control resumed: inputs are fresh again', {
        loop: 'climate',
      });
    }
  }

  private watchTemperature(c: Climate, t: number | null): void {
    // An unknown temperature keeps the reaction as it was; the stale fail-safe covers the rest.
    if (t === null) return;
    const over = isOverTemperature(c, t, this.over);
    if (over === this.over) return;
    this.over = over;
    if (over) {
      raiseEvent(
        this.bus,
        'climate.over_temperature',
        'critical',
        `air temperature ${t} °C is above ${c.overTemperatureC} °C: light dimmed to ${c.overTemperatureLightLevel} %, fan full`,
        { value: t, limit: c.overTemperatureC, lightLevel: c.overTemperatureLightLevel },
      );
    } else {
      raiseEvent(
        this.bus,
        'climate.temperature_normal',
        'info',
        `air temperature ${t} °C is below ${c.overTemperatureClearC} °C again: light back to its schedule`,
        { value: t, limit: c.overTemperatureClearC },
      );
    }
  }
}
