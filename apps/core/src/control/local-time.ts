/** Wall-clock time in a module's time zone (IANA name): what every schedule follows. */

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
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The minute of the local day (0 ≤ m < 1440, with seconds as a fraction) at epoch `ts` in `timeZone`. */
export function localMinuteOfDay(ts: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ts));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute') + get('second') / 60;
}
