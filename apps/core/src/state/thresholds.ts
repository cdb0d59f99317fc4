import type { Feature, SensorSnapshot } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import { raiseEvent } from './events';
import type { WaterLevelRole } from '@growoff/hal';
import { judgeWaterLevel } from '../control/interlocks';

/** Events when a value crosses a limit and when it is back: water level low, CO2 high. */
export class ThresholdEvents implements Feature {
  readonly name = 'threshold-events';
  private off?: () => void;
  /** Per level sensor: whether it last counted as low water. */
  private readonly waterLow = new Map<string, boolean>();
  private co2High?: boolean;

  constructor(
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
    private readonly waterLevels: readonly WaterLevelRole[] = [],
  ) {}

  start(): void {
    this.off = this.bus.on('reading', (r) => this.check(r));
  }

  stop(): void {
    this.off?.();
  }

  private check(r: SensorSnapshot): void {
    const level = this.waterLevels.find((l) => l.sensor === r.id);
    if (level) {
      // A failed or stale level reading counts as low water, as the pump interlock counts it.
      const refusal = judgeWaterLevel(r, level, Infinity, 0);
      const low = refusal !== null;
      const was = this.waterLow.get(r.id);
      if (low !== was && (was !== undefined || low)) {
        if (low)
          raiseEvent(
            this.bus,
            'water_level.low',
            'critical',
            `water level (${r.id}) is ${refusal.reason === 'water_level_low' ? 'low' : `unknown (${r.quality}), so it counts as low`}: the pump is locked out`,
            { sensor: r.id, value: r.value, quality: r.quality },
          );
        else
          raiseEvent(this.bus, 'water_level.ok', 'info', `water level (${r.id}) is back to normal`, {
            sensor: r.id,
            value: r.value,
          });
      }
      this.waterLow.set(r.id, low);
    }
    if (r.value === null) return;
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
