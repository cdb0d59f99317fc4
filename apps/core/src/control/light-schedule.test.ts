import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ProtocolError } from '@growoff/protocol';
import { CONFIG_FILE } from '../config/config-store';
import { controlFixture, type ControlFixture } from './control-fixture';
import { LightSchedule, lightLevelAt } from './light-schedule';

const light = { enabled: true, on: '06:00', off: '22:00', rampMinutes: 30, level: 80 };
const at = (hh: number, mm = 0) => hh * 60 + mm;

describe('lightLevelAt', () => {
  it('is off at night and full during the day', () => {
    expect(lightLevelAt(light, at(3))).toBe(0);
    expect(lightLevelAt(light, at(23))).toBe(0);
    expect(lightLevelAt(light, at(12))).toBe(80);
  });

  it('dims up over the sunrise ramp and down over the sunset ramp', () => {
    expect(lightLevelAt(light, at(6))).toBe(0);
    expect(lightLevelAt(light, at(6, 15))).toBe(40);
    expect(lightLevelAt(light, at(6, 30))).toBe(80);
    expect(lightLevelAt(light, at(21, 30))).toBe(80);
    expect(lightLevelAt(light, at(21, 45))).toBe(40);
    expect(lightLevelAt(light, at(22))).toBe(0);
  });

  it('handles a photoperiod that crosses midnight', () => {
    const night = { ...light, on: '20:00', off: '08:00', rampMinutes: 0 };
    expect(lightLevelAt(night, at(23))).toBe(80);
    expect(lightLevelAt(night, at(2))).toBe(80);
    expect(lightLevelAt(night, at(12))).toBe(0);
  });
});

describe('LightSchedule in the module time zone', () => {
  let f: ControlFixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('follows local time across the DST change (Europe/Berlin, last Sunday of March), whatever the process TZ', async () => {
    f = await controlFixture({
      timezone: 'Europe/Berlin',
      light: { enabled: true, on: '06:00', off: '22:00', rampMinutes: 30, level: 80 },
    });
    const fixture = f;
    // The process runs in another zone (a container gets UTC; here New York): it must not matter.
    const processTz = process.env.TZ;
    process.env.TZ = 'America/New_York';
    onTestFinished(() => {
      if (processTz === undefined) delete process.env.TZ;
      else process.env.TZ = processTz;
    });
    expect(new Date(Date.UTC(2026, 2, 28, 5, 15)).getHours()).toBe(1);
    const schedule = new LightSchedule(
      fixture.actuators,
      fixture.config,
      fixture.bus,
      () => fixture.clock.now,
    );
    const levelAt = async (utc: number) => {
      fixture.clock.now = utc;
      await schedule.tick();
      return fixture.hal.actuatorState('light');
    };
    // Saturday 28 March 2026, CET (UTC+1): 06:15 local is 05:15 UTC, halfway up the ramp.
    expect(await levelAt(Date.UTC(2026, 2, 28, 5, 15))).toEqual({ level: 40 });
    expect(await levelAt(Date.UTC(2026, 2, 28, 4, 15))).toEqual({ level: 0 });
    // Sunday 29 March 2026, CEST (UTC+2) from 01:00 UTC: 06:15 local is now 04:15 UTC.
    expect(await levelAt(Date.UTC(2026, 2, 29, 4, 15))).toEqual({ level: 40 });
    expect(await levelAt(Date.UTC(2026, 2, 29, 5, 15))).toEqual({ level: 80 });
    // Sunset 21:45 local (halfway down) is 20:45 UTC before the change and 19:45 UTC after it.
    expect(await levelAt(Date.UTC(2026, 2, 28, 20, 45))).toEqual({ level: 40 });
    expect(await levelAt(Date.UTC(2026, 2, 29, 19, 45))).toEqual({ level: 40 });
    expect(await levelAt(Date.UTC(2026, 2, 29, 20, 45))).toEqual({ level: 0 });
  });

  it('refuses an unknown time zone name with a coded error and changes nothing', async () => {
    f = await controlFixture({ timezone: 'Europe/Berlin' });
    const before = f.config.get();
    const saved = await readFile(join(f.dataDir, CONFIG_FILE), 'utf8');
    for (const timezone of ['Mars/Olympus_Mons', '', 'Europe/Berlin ', 'UTC+25']) {
      const error = await f.config.update({ timezone, light: { level: 10 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: 'INVALID_MESSAGE' });
      expect(JSON.stringify((error as ProtocolError).details)).toContain('/timezone');
    }
    expect(f.config.get()).toEqual(before);
    expect(await readFile(join(f.dataDir, CONFIG_FILE), 'utf8')).toBe(saved);
  });
});
