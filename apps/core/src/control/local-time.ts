/** Wall-clock time in a module's time zone (IANA name): what every schedule follows. */

/**
 * Zones that are UTC all year round, computed without Intl: the first Intl object a process makes
 * loads ICU's locale data, about 8 MB of memory for the rest of its life (6 of them pages of the
 * node binary), which a module in UTC has no use for.
 */
const UTC_NAMES = new Set(['UTC', 'Etc/UTC']);
const MS_PER_DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True for a time zone name the runtime knows (e.g. `Europe/Berlin`, `UTC`). */
export function isValidTimeZone(name: string): boolean {
  if (name.trim() !== name || name === '') return false;
  if (UTC_NAMES.has(name)) return true;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The minute of the local day (0 ≤ m < 1440, with seconds as a fraction) at epoch `ts` in `timeZone`. */
export function localMinuteOfDay(ts: number, timeZone: string): number {
  if (UTC_NAMES.has(timeZone)) {
    // Whole seconds, as the formatter gives them.
    const secondOfDay = Math.floor((((ts % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY) / 1000);
    return Math.floor(secondOfDay / 60) + (secondOfDay % 60) / 60;
  }
  const parts = formatter(timeZone).formatToParts(new Date(ts));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute') + get('second') / 60;
}
