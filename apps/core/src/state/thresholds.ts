import type { Feature, SensorSnapshot } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import { raiseEvent } from './events';
import { isWaterLow } from '../control/interlocks';

/** Events when a value crosses a limit and when it is back: water level low, CO2 high. */
export class ThresholdEvents implements Feature {
  readonly name = 'threshold-events';
  private off?: () => void;
  private waterLow?: boolean;
  private co2High?: boolean;

  constructor(
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
  ) {}

  start(): void {
    this.off = this.bus.on('reading', (r) => this.check(r));
  }

  stop(): void {
    this.off?.();
  }

  private check(r: SensorSnapshot): void {
    if (r.value === null) return;
    if (r.id === 'water_level') {
      const low = isWaterLow(r.value, r.unit);
      if (low !== this.waterLow && (this.waterLow !== undefined || low)) {
        if (low)
          raiseEvent(this.bus, 'water_level.low', 'critical', 'water level is low: the pump is locked out', {
            value: r.value,
          });
        else
          raiseEvent(this.bus, 'water_level.ok', 'info', 'water level is back to normal', { value: r.value });
      }
      this.waterLow = low;
    }
    if (r.id === 'co2') {
      const limit = this.config.get().thresholds.co2HighPpm;
      const high = r.value > limit;
      if (high !== this.co2High && (this.co2High !== undefined || high)) {
        if (high)
          raiseEvent(this.bus, 'co2.high', 'warning', `CO2 is ${r.value} ppm, above ${limit} ppm`, {
            value: r.value,
            limit,
          });
        else
          raiseEvent(this.bus, 'co2.normal', 'info', `CO2 is back below ${limit} ppm`, {
            value: r.value,
            limit,
          });
      }
      this.co2High = high;
    }
  }
}
