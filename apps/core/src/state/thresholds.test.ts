import { RegisteredEventSchema, validate, type Event } from '@growoff/protocol';
import { DEFAULT_PROFILE } from '@growoff/hal';
import { describe, expect, it } from 'vitest';
import type { ConfigHolder } from '../config/config-holder';
import { DEFAULT_MODULE_CONFIG } from '../config/module-config';
import type { SensorSnapshot } from '../core-types';
import { EventBus } from '../event-bus';
import { ThresholdEvents } from './thresholds';

const reading = (id: string, value: number, unit: string): SensorSnapshot => ({
  id,
  value,
  unit,
  quality: 'ok',
  ts: 1,
});

describe('threshold events', () => {
  it('raises registered events whose data matches the registry, once per crossing', () => {
    const bus = new EventBus();
    const events: Event[] = [];
    bus.on('event', (e) => events.push(e));
    const thresholds = new ThresholdEvents(bus, { get: () => DEFAULT_MODULE_CONFIG } as ConfigHolder, [
      ...DEFAULT_PROFILE.roles.waterLevels,
    ]);
    thresholds.start();
    const limit = DEFAULT_MODULE_CONFIG.thresholds.co2HighPpm;
    for (const r of [
      reading('water_level', 1, 'bool'),
      reading('water_level', 0, 'bool'),
      reading('water_level', 0, 'bool'),
      reading('water_level', 1, 'bool'),
      reading('co2', limit - 100, 'ppm'),
      reading('co2', limit + 100, 'ppm'),
      reading('co2', limit + 200, 'ppm'),
      reading('co2', limit - 100, 'ppm'),
    ])
      bus.emit('reading', r);
    thresholds.stop();
    expect(events.map((e) => [e.type, e.severity])).toEqual([
      ['water_level.low', 'critical'],
      ['water_level.ok', 'info'],
      ['co2.high', 'warning'],
      ['co2.normal', 'info'],
    ]);
    for (const e of events) expect(validate(RegisteredEventSchema, e).ok, e.type).toBe(true);
    expect(events[2]!.data).toEqual({ value: limit + 100, limit });
  });
});
