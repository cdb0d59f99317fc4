import type { WaterLevelRole } from '@growoff/hal';
import type { SensorSnapshot } from '../core-types';
import type { StateStore } from '../state/state-store';
import type { ModuleConfig } from '../config/module-config';

export interface InterlockRefusal {
  interlock: string;
  reason: 'water_level_low' | 'water_level_unknown';
  message: string;
}

/**
 * How the water level input stands for the pump: `ok` only for a fresh `ok` reading at or above
 * the role's threshold (in the sensor's own unit: bool, %, cm, V…). Anything else — no level
 * input bound, never read, a failed, stale or old reading — counts as low water. `ageMs` is the
 * reading's age (`StateStore.ageMs`: monotonic, not only wall-clock).
 */
export function judgeWaterLevel(
  reading: SensorSnapshot | undefined,
  role: WaterLevelRole | undefined,
  staleAfterMs: number,
  ageMs: number,
): InterlockRefusal | null {
  const refuse = (reason: InterlockRefusal['reason'], why: string): InterlockRefusal => ({
    interlock: 'pump-water-level',
    reason,
    message:
      reason === 'water_level_low'
        ? `pump refused: water level is low (${why}); refill the reservoir first`
        : `pump refused: water level is unknown (${why}), so it counts as low; it must be known and sufficient to run the pump`,
  });
  if (role === undefined) return refuse('water_level_unknown', 'no level sensor in the hardware profile');
  if (reading === undefined) return refuse('water_level_unknown', `no reading of ${role.sensor} yet`);
  if (reading.quality !== 'ok' || reading.value === null)
    return refuse('water_level_unknown', `last reading of ${reading.id} failed (${reading.quality})`);
  if (ageMs > staleAfterMs)
    return refuse(
      'water_level_unknown',
      `last reading of ${reading.id} is ${Math.round(ageMs / 1000)} s old`,
    );
  if (reading.value < role.lowBelow)
    return refuse(
      'water_level_low',
      `${reading.id} ${reading.value} ${reading.unit}, below ${role.lowBelow}`,
    );
  return null;
}

/** Whether the pump may run now: every level input of the profile must say there is water. */
export function pumpInterlock(
  store: StateStore,
  config: ModuleConfig,
  now: number,
  levels: readonly WaterLevelRole[],
): InterlockRefusal | null {
  const { staleAfterMs } = config.thresholds;
  if (levels.length === 0) return judgeWaterLevel(undefined, undefined, staleAfterMs, 0);
  for (const role of levels) {
    const age = store.ageMs(role.sensor, now) ?? 0;
    const refusal = judgeWaterLevel(store.reading(role.sensor), role, staleAfterMs, age);
    if (refusal) return refusal;
  }
  return null;
}
