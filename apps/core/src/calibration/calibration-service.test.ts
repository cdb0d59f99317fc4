import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHal, type Hal } from '@growoff/hal';
import type { Event } from '@growoff/protocol';
import { EventBus } from '../event-bus';
import { ConfigHolder } from '../config/config-holder';
import { ConfigStore } from '../config/config-store';
import { DEFAULT_MODULE_CONFIG } from '../config/module-config';
import { CalibrationService } from './calibration-service';
import { CalibrationStore } from './calibration-store';

const DAY = 86_400_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'growoff-calsvc-'));
  const hal: Hal = await createHal({ mode: 'sim', seed: 2, timeScale: 200 });
  cleanups.push(async () => {
    await hal.close();
    await rm(dir, { recursive: true, force: true });
  });
  const bus = new EventBus();
  const events: Event[] = [];
  bus.on('event', (e) => events.push(e));
  const config = new ConfigHolder(structuredClone(DEFAULT_MODULE_CONFIG), new ConfigStore(dir), bus);
  const clock = { t: 10 * DAY };
  const service = new CalibrationService(hal, new CalibrationStore(dir), bus, config, () => clock.t);
  await service.start();
  cleanups.push(async () => service.stop());
  return { hal, bus, events, config, clock, service, dir };
}

describe('calibration service', () => {
  it('keeps the EC points the circuit holds: single replaces low/high, high adds to low, dry starts over', async () => {
    const { hal, service } = await setup();
    const env = hal.simulation!;
    env.setEnvironment({ ec: 0 });
    await service.calibrate('ec', { action: 'dry' }, 'rest');
    env.setEnvironment({ ec: 1200 });
    await service.calibrate('ec', { action: 'low', value: 1413 }, 'rest');
    env.setEnvironment({ ec: 9000 });
    const two = await service.calibrate('ec', { action: 'high', value: 12_880 }, 'rest');
    expect(two.points.map((p) => p.action)).toEqual(['dry', 'low', 'high']);
    expect(two.devicePoints).toBe(2);
    const single = await service.calibrate('ec', { action: 'single', value: 9500 }, 'mqtt');
    expect(single.points.map((p) => p.action)).toEqual(['dry', 'single']);
    expect(single.devicePoints).toBe(1);
    env.setEnvironment({ ec: 0 });
    expect((await service.calibrate('ec', { action: 'dry' }, 'rest')).points.map((p) => p.action)).toEqual([
      'dry',
    ]);
  });

  it('is due once the configured interval has passed, and says so once with calibration.due', async () => {
    const { service, clock, events } = await setup();
    const s = await service.calibrate('co2', { action: 'offset', value: -20 }, 'rest');
    expect(s.dueAt).toBe(10 * DAY + 365 * DAY);
    clock.t = s.dueAt! - 1;
    service.checkDue();
    expect((await service.status('co2')).due).toBe(false);
    clock.t = s.dueAt!;
    service.checkDue();
    service.checkDue();
    expect((await service.status('co2')).due).toBe(true);
    expect(events.filter((e) => e.type === 'calibration.due')).toEqual([
      expect.objectContaining({ data: { sensor: 'co2', calibratedAt: 10 * DAY, dueAt: s.dueAt } }),
    ]);
    // A sensor without an interval is never due.
    await service.calibrate('air_temperature', { action: 'offset', value: 0.5 }, 'rest');
    expect((await service.status('air_temperature')).dueAt).toBeNull();
  });

  it('applies offset and scale to values, keeps the other on a partial change, and clear resets both', async () => {
    const { service } = await setup();
    await service.calibrate('air_temperature', { action: 'offset', value: 1, scale: 2 }, 'rest');
    expect(service.adjust('air_temperature', 10)).toBe(21);
    await service.calibrate('air_temperature', { action: 'offset', scale: 1 }, 'rest');
    expect(service.adjust('air_temperature', 10)).toBe(11);
    expect(service.adjust('air_humidity', 10)).toBe(10);
    const cleared = await service.calibrate('air_temperature', { action: 'clear' }, 'rest');
    expect(cleared).toMatchObject({ offset: 0, scale: 1, calibratedAt: null, points: [] });
    expect(service.adjust('air_temperature', 10)).toBe(10);
  });

  it('refuses an offset on a digital input (it could hide low water from the pump interlock)', async () => {
    const { service } = await setup();
    await expect(
      service.calibrate('water_level', { action: 'offset', value: 1 }, 'mqtt'),
    ).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    expect(service.adjust('water_level', 0)).toBe(0);
    expect(await service.status('water_level')).toMatchObject({ calibratedAt: null, actions: ['clear'] });
    expect((await service.status('air_temperature')).actions).toEqual(['offset', 'clear']);
  });

  it('loads the kept records at start', async () => {
    const first = await setup();
    await first.service.calibrate('ph', { action: 'mid', value: 7 }, 'rest');
    const again = new CalibrationService(
      first.hal,
      new CalibrationStore(first.dir),
      first.bus,
      first.config,
      () => first.clock.t,
    );
    await again.start();
    expect((await again.status('ph')).points).toEqual([{ action: 'mid', value: 7, at: 10 * DAY }]);
    again.stop();
  });
});
