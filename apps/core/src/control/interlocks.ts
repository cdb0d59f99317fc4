import type { StateStore } from '../state/state-store';
import type { ModuleConfig } from '../config/module-config';

export const PUMP = 'pump';
export const WATER_LEVEL = 'water_level';

/** A float switch reads 0/1 ('bool'); a level sensor reads percent. Low means the pump would run dry. */
export function isWaterLow(value: number, unit: string): boolean {
  return unit === '%' ? value < 10 : value < 0.5;
}

export interface InterlockRefusal {
  interlock: string;
  reason: 'water_level_low' | 'water_level_unknown';
  message: string;
}

/**
 * Whether the pump may run now. Fails safe: a missing, failed or stale water level reading
 * refuses as surely as a low one.
 */
export function pumpInterlock(store: StateStore, config: ModuleConfig, now: number): InterlockRefusal | null {
  const reading = store.reading(WATER_LEVEL);
  const value = store.freshValue(WATER_LEVEL, config.thresholds.staleAfterMs, now);
  if (reading === undefined || value === null) {
    const why =
      reading === undefined
        ? 'no reading yet'
        : reading.quality !== 'ok'
          ? `last reading failed (${reading.quality})`
          : `last reading is ${Math.round((now - reading.ts) / 1000)} s old`;
    return {
      interlock: 'pump-water-level',
      reason: 'water_level_unknown',
      message: `pump refused: water level is unknown (${why}); it must be known and sufficient to run the pump`,
    };
  }
  if (isWaterLow(value, reading.unit)) {
    return {
      interlock: 'pump-water-level',
      reason: 'water_level_low',
      message: `pump refused: water level is low (${value} ${reading.unit}); refill the reservoir first`,
    };
  }
  return null;
}
