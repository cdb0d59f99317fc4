import { describe, expect, it } from 'vitest';
import { isValidTimeZone, localMinuteOfDay } from './local-time';

/** The same minute as Intl computes it, the way every other zone is computed. */
function intlMinuteOfDay(ts: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ts));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute') + get('second') / 60;
}

describe('local time', () => {
  it('gives for UTC, without Intl, what Intl gives: across days, before 1970, to the whole second', () => {
    const instants = [
      0,
      999,
      Date.UTC(2026, 10, 30, 23, 59, 59, 999),
      Date.UTC(2026, 2, 29, 1, 30, 15, 500),
      Date.UTC(1969, 11, 31, 12, 0, 1, 1),
      -1,
      Date.UTC(2040, 0, 1, 0, 0, 0),
    ];
    for (const ts of instants) {
      expect(localMinuteOfDay(ts, 'UTC')).toBe(intlMinuteOfDay(ts, 'UTC'));
      expect(localMinuteOfDay(ts, 'Etc/UTC')).toBe(intlMinuteOfDay(ts, 'UTC'));
    }
  });

  it('follows a zone with daylight saving time through Intl', () => {
    // 2026-03-29 01:30 UTC: Berlin has just moved to CEST (UTC+2), so 03:30 local.
    expect(localMinuteOfDay(Date.UTC(2026, 2, 29, 1, 30), 'Europe/Berlin')).toBe(3 * 60 + 30);
    expect(localMinuteOfDay(Date.UTC(2026, 0, 15, 1, 30), 'Europe/Berlin')).toBe(2 * 60 + 30);
  });

  it('knows UTC and the zones of the runtime, and refuses what is not a zone', () => {
    expect(['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/New_York'].every(isValidTimeZone)).toBe(true);
    expect(['', ' UTC', 'UTC ', 'Mars/Olympus_Mons', 'utc/'].some(isValidTimeZone)).toBe(false);
  });
});
