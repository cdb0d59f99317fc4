/**
 * The machine-readable line each bench prints last, which `npm run bench` (bench/run-all.ts)
 * collects into one table. A measure with a baseline is compared as value / baseline.
 */
export interface BenchMeasure {
  /** The table's key, e.g. `core.commandP99` (goals are in bench/run-all.ts). */
  id: string;
  value: number;
  unit: string;
  /** Measured in the same run; the ratio is value / baseline. */
  baseline?: number;
  note?: string;
}

export const BENCH_RESULT_PREFIX = 'BENCH_RESULT ';

export function benchResult(bench: string, measures: BenchMeasure[]): void {
  console.log(`${BENCH_RESULT_PREFIX}${JSON.stringify({ bench, measures })}`);
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
