import { describe, expect, it } from 'vitest';
import type { SensorQuality } from '@growoff/protocol';
import { StateStore } from '../state/state-store';
import { DEFAULT_MODULE_CONFIG } from '../config/module-config';
import { pumpInterlock } from './interlocks';

const now = 1_000_000;
const FLOAT = [{ sensor: 'water_level', lowBelow: 0.5 }];
const PERCENT = [{ sensor: 'water_level', lowBelow: 10 }];
function storeWith(
  value: number | null,
  quality: SensorQuality = 'ok',
  ageMs = 0,
  unit = 'bool',
  id = 'water_level',
) {
  const store = new StateStore();
  store.setReading({ id, value, unit, quality, ts: now - ageMs });
  return store;
}

describe('pumpInterlock', () => {
  it('allows the pump when the water level is good and fresh', () => {
    expect(pumpInterlock(storeWith(1), DEFAULT_MODULE_CONFIG, now, FLOAT)).toBeNull();
    expect(pumpInterlock(storeWith(60, 'ok', 0, '%'), DEFAULT_MODULE_CONFIG, now, PERCENT)).toBeNull();
  });

  it('refuses on a low water level', () => {
    expect(pumpInterlock(storeWith(0), DEFAULT_MODULE_CONFIG, now, FLOAT)?.reason).toBe('water_level_low');
    expect(pumpInterlock(storeWith(5, 'ok', 0, '%'), DEFAULT_MODULE_CONFIG, now, PERCENT)?.reason).toBe(
      'water_level_low',
    );
  });

  it('fails safe when the water level is unknown: never read, failed, or stale', () => {
    expect(pumpInterlock(new StateStore(), DEFAULT_MODULE_CONFIG, now, FLOAT)?.reason).toBe(
      'water_level_unknown',
    );
    expect(pumpInterlock(storeWith(null, 'timeout'), DEFAULT_MODULE_CONFIG, now, FLOAT)?.message).toContain(
      'timeout',
    );
    const stale = pumpInterlock(storeWith(1, 'ok', 60_000), DEFAULT_MODULE_CONFIG, now, FLOAT);
    expect(stale?.reason).toBe('water_level_unknown');
    expect(stale?.message).toContain('60 s old');
  });
});

describe('reading age on a monotonic clock (SAFETY.md C2)', () => {
  it('refuses the pump on a level reading that stopped arriving, although the wall clock stepped back', () => {
    let mono = 0;
    const store = new StateStore(() => mono);
    store.setReading({ id: 'water_level', value: 1, unit: 'bool', quality: 'ok', ts: now });
    expect(pumpInterlock(store, DEFAULT_MODULE_CONFIG, now, FLOAT)).toBeNull();
    // 60 s pass with no new sample, and NTP steps the wall clock back by those 60 s.
    mono += 60_000;
    const refusal = pumpInterlock(store, DEFAULT_MODULE_CONFIG, now, FLOAT);
    expect(refusal).toMatchObject({ reason: 'water_level_unknown' });
    expect(refusal!.message).toContain('60 s old');
    // A climate input the same way: no value once older than staleAfterMs on either clock.
    store.setReading({ id: 'air_temperature', value: 24, unit: '°C', quality: 'ok', ts: now });
    expect(store.freshValue('air_temperature', 30_000, now)).toBe(24);
    mono += 31_000;
    expect(store.freshValue('air_temperature', 30_000, now - 31_000)).toBeNull();
  });

  it('counts a wall clock stepped forward as age too: the older of the two ages decides', () => {
    const store = new StateStore(() => 0);
    store.setReading({ id: 'water_level', value: 1, unit: 'bool', quality: 'ok', ts: now });
    expect(store.ageMs('water_level', now + 45_000)).toBe(45_000);
    expect(pumpInterlock(store, DEFAULT_MODULE_CONFIG, now + 45_000, FLOAT)?.reason).toBe(
      'water_level_unknown',
    );
    expect(store.ageMs('missing', now)).toBeUndefined();
  });
});

describe('water level interlock', () => {
  it('treats a level input of any quality but ok as low water, even with a value', () => {
    for (const quality of ['stale', 'crc', 'range', 'timeout', 'unavailable'] as const) {
      const refusal = pumpInterlock(storeWith(1, quality), DEFAULT_MODULE_CONFIG, now, FLOAT);
      expect(refusal, quality).toMatchObject({ reason: 'water_level_unknown' });
      expect(refusal!.message).toContain('counts as low');
    }
  });

  it('judges a level sensor in cm or volts by the threshold of its role', () => {
    const tank = [{ sensor: 'tank_depth', lowBelow: 8 }];
    const cm = (v: number) =>
      pumpInterlock(storeWith(v, 'ok', 0, 'cm', 'tank_depth'), DEFAULT_MODULE_CONFIG, now, tank);
    expect(cm(12)).toBeNull();
    expect(cm(7.9)).toMatchObject({
      reason: 'water_level_low',
      message: expect.stringContaining('tank_depth 7.9 cm, below 8'),
    });
    const volts = [{ sensor: 'level_v', lowBelow: 1.2 }];
    const v = (x: number) =>
      pumpInterlock(storeWith(x, 'ok', 0, 'V', 'level_v'), DEFAULT_MODULE_CONFIG, now, volts);
    expect(v(2.5)).toBeNull();
    expect(v(0.4)?.reason).toBe('water_level_low');
  });

  it('refuses the pump when the profile binds no level sensor', () => {
    expect(pumpInterlock(storeWith(1), DEFAULT_MODULE_CONFIG, now, [])).toMatchObject({
      reason: 'water_level_unknown',
      message: expect.stringContaining('no level sensor'),
    });
  });

  it('reads the level from the sensor bound to the role, not from water_level', () => {
    const store = storeWith(0);
    store.setReading({ id: 'tank_depth', value: 20, unit: 'cm', quality: 'ok', ts: now });
    expect(
      pumpInterlock(store, DEFAULT_MODULE_CONFIG, now, [{ sensor: 'tank_depth', lowBelow: 8 }]),
    ).toBeNull();
  });

  it('refuses the pump when any of several level inputs is low or failed', () => {
    const store = storeWith(1);
    const levels = [
      { sensor: 'water_level', lowBelow: 0.5 },
      { sensor: 'tank_depth', lowBelow: 8 },
    ];
    store.setReading({ id: 'tank_depth', value: 20, unit: 'cm', quality: 'ok', ts: now });
    expect(pumpInterlock(store, DEFAULT_MODULE_CONFIG, now, levels)).toBeNull();
    store.setReading({ id: 'tank_depth', value: 3, unit: 'cm', quality: 'ok', ts: now });
    expect(pumpInterlock(store, DEFAULT_MODULE_CONFIG, now, levels)).toMatchObject({
      reason: 'water_level_low',
    });
    store.setReading({ id: 'tank_depth', value: null, unit: 'cm', quality: 'timeout', ts: now });
    expect(pumpInterlock(store, DEFAULT_MODULE_CONFIG, now, levels)).toMatchObject({
      reason: 'water_level_unknown',
      message: expect.stringContaining('tank_depth failed (timeout)'),
    });
  });
});
