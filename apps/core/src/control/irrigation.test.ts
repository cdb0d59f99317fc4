import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../core-types';
import { controlFixture, type ControlFixture } from './control-fixture';
import { IRRIGATION_FILE, IrrigationMemory } from './irrigation-memory';
import { IrrigationCycles, START_GRACE_MS } from './irrigation';
import { UpdateLock } from './update-lock';

const MINUTE = 60_000;

describe('irrigation timing across restarts', () => {
  let f: ControlFixture | undefined;
  const running: IrrigationCycles[] = [];
  afterEach(async () => {
    for (const cycles of running.splice(0)) cycles.stop();
    await f?.close();
    f = undefined;
  });

  /** A core start: a new IrrigationCycles on the same data dir. */
  async function boot(fixture: ControlFixture, graceMs = START_GRACE_MS): Promise<IrrigationCycles> {
    const cycles = new IrrigationCycles(
      fixture.actuators,
      fixture.config,
      new UpdateLock(fixture.bus, fixture.config, () => fixture.clock.now),
      fixture.bus,
      new IrrigationMemory(fixture.dataDir),
      () => fixture.clock.now,
      graceMs,
    );
    await cycles.start();
    running.push(cycles);
    return cycles;
  }

  it('keeps the interval from the last cycle when the core restarts more often than it', async () => {
    f = await controlFixture({ irrigation: { everyMinutes: 10, runSeconds: 5 } });
    f.read('water_level', 1, 'bool');
    const first = await boot(f);
    await first.startCycle('schedule');
    const lastRun = f.clock.now;
    await first.stopCycle('rest');
    first.stop();

    // Restarts every 4 minutes: each one still plans the cycle 10 minutes after the last run.
    for (let restart = 1; restart <= 2; restart += 1) {
      f.clock.now += 4 * MINUTE;
      const again = await boot(f);
      expect(again.status().nextAt).toBe(lastRun + 10 * MINUTE);
      again.stop();
    }
    // Down past the due time: the missed cycle runs once the water level has been read.
    f.clock.now = lastRun + 25 * MINUTE;
    const late = await boot(f);
    expect(late.status().nextAt).toBe(f.clock.now + START_GRACE_MS);
  });

  it('runs a cycle missed while the core was down soon after start, and saves its time', async () => {
    f = await controlFixture({ irrigation: { everyMinutes: 10, runSeconds: 5 } });
    const fixture = f;
    fixture.read('water_level', 1, 'bool');
    await writeFile(
      join(fixture.dataDir, IRRIGATION_FILE),
      JSON.stringify({ lastRunAt: fixture.clock.now - 11 * MINUTE }),
    );
    const started = new Promise<Event>((resolve) => {
      const off = fixture.bus.on('event', (e) => {
        if (e.type === 'irrigation.started') {
          off();
          resolve(e);
        }
      });
    });
    const cycles = await boot(fixture, 20);
    expect(await started).toMatchObject({ data: { source: 'schedule' } });
    expect(await fixture.hal.actuatorState('pump')).toEqual({ state: 'on' });
    expect(await new IrrigationMemory(fixture.dataDir).lastRun()).toBe(fixture.clock.now);
    expect(cycles.status().nextAt).toBe(fixture.clock.now + 10 * MINUTE);
    await cycles.stopCycle('rest');
  });

  it('counts from now when the saved run lies in the future (clock set back) or the file is damaged', async () => {
    f = await controlFixture({ irrigation: { everyMinutes: 10 } });
    await writeFile(
      join(f.dataDir, IRRIGATION_FILE),
      JSON.stringify({ lastRunAt: f.clock.now + 365 * 24 * 60 * MINUTE }),
    );
    expect((await boot(f)).status().nextAt).toBe(f.clock.now + 10 * MINUTE);
    await writeFile(join(f.dataDir, IRRIGATION_FILE), '{"lastRunAt":');
    expect((await boot(f)).status().nextAt).toBe(f.clock.now + 10 * MINUTE);
  });
});
