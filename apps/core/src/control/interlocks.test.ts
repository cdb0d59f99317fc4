import { describe, expect, it } from 'vitest';
import { StateStore } from '../state/state-store';
import { DEFAULT_MODULE_CONFIG } from '../config/module-config';
import { pumpInterlock } from './interlocks';

const now = 1_000_000;
function storeWith(value: number | null, quality: 'ok' | 'timeout' = 'ok', ageMs = 0, unit = 'bool') {
  const store = new StateStore();
  store.setReading({ id: 'water_level', value, unit, quality, ts: now - ageMs });
  return store;
}

describe('pumpInterlock', () => {
  it('allows the pump when the water level is good and fresh', () => {
    expect(pumpInterlock(storeWith(1), DEFAULT_MODULE_CONFIG, now)).toBeNull();
    expect(pumpInterlock(storeWith(60, 'ok', 0, '%'), DEFAULT_MODULE_CONFIG, now)).toBeNull();
  });

  it('refuses on a low water level', () => {
    expect(pumpInterlock(storeWith(0), DEFAULT_MODULE_CONFIG, now)?.reason).toBe('water_level_low');
    expect(pumpInterlock(storeWith(5, 'ok', 0, '%'), DEFAULT_MODULE_CONFIG, now)?.reason).toBe(
      'water_level_low',
    );
  });

  it('fails safe when the water level is unknown: never read, failed, or stale', () => {
    expect(pumpInterlock(new StateStore(), DEFAULT_MODULE_CONFIG, now)?.reason).toBe('water_level_unknown');
    expect(pumpInterlock(storeWith(null, 'timeout'), DEFAULT_MODULE_CONFIG, now)?.message).toContain(
      'timeout',
    );
    const stale = pumpInterlock(storeWith(1, 'ok', 60_000), DEFAULT_MODULE_CONFIG, now);
    expect(stale?.reason).toBe('water_level_unknown');
    expect(stale?.message).toContain('60 s old');
  });
});
