/** How many milliseconds per series are remembered; older ones are forgotten first. */
const REMEMBERED = 4096;

/**
 * Gives each event a nanosecond offset inside its millisecond, unique per series (type and
 * severity): InfluxDB stores one point per series and timestamp, so two `command.rejected` events
 * raised in the same millisecond would otherwise leave only the second.
 */
export class EventStamps {
  private readonly used = new Map<string, number>();

  /** 0 for the first event of a series in millisecond `ms`, then 1, 2, … (at most 999 999). */
  next(type: string, severity: string, ms: number): number {
    const key = `${ms}\u0000${type}\u0000${severity}`;
    const offset = this.used.get(key) ?? 0;
    this.used.delete(key);
    this.used.set(key, Math.min(offset + 1, 999_999));
    if (this.used.size > REMEMBERED) {
      const oldest = this.used.keys().next().value as string;
      this.used.delete(oldest);
    }
    return offset;
  }
}
