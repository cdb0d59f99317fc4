/** The pump's limits from the module config (`irrigation` section). */
export interface PumpBudgetLimits {
  /** Most on-time, all runs added up, within any runWindowSeconds. */
  maxRunSeconds: number;
  runWindowSeconds: number;
  /** The pause that follows a used-up budget; an "on" during it is refused. */
  restSeconds: number;
}

/**
 * The pump's run budget: every run within a sliding window adds up, however it was started or
 * re-commanded, so repeating "on" never extends it. When the sum reaches maxRunSeconds the pump must
 * stop and rest for restSeconds; the rest pays the budget back in full. Pure bookkeeping on
 * injected times (ms), so the semantics can be checked exactly.
 */
export class PumpRunBudget {
  private runs: { start: number; end: number }[] = [];
  private runningSince?: number;
  private restUntil?: number;

  /** The end of the current rest, or undefined when the pump may run. */
  restingUntil(now: number): number | undefined {
    if (this.restUntil !== undefined && now >= this.restUntil) this.restUntil = undefined;
    return this.restUntil;
  }

  running(): boolean {
    return this.runningSince !== undefined;
  }

  /** On-time (ms) within the window ending now, the current run included. */
  usedMs(now: number, limits: PumpBudgetLimits): number {
    const from = now - limits.runWindowSeconds * 1000;
    const closed = this.runs.reduce((sum, r) => sum + Math.max(0, r.end - Math.max(r.start, from)), 0);
    const open = this.runningSince === undefined ? 0 : now - Math.max(this.runningSince, from);
    return closed + open;
  }

  /** How much longer (ms) the pump may run from now; 0 while resting. */
  remainingMs(now: number, limits: PumpBudgetLimits): number {
    if (this.restingUntil(now) !== undefined) return 0;
    return Math.max(0, limits.maxRunSeconds * 1000 - this.usedMs(now, limits));
  }

  /** The pump is (or may be) running from now; a run already going keeps its start. */
  started(now: number): void {
    this.runningSince ??= now;
  }

  stopped(now: number, limits: PumpBudgetLimits): void {
    if (this.runningSince !== undefined) this.runs.push({ start: this.runningSince, end: now });
    this.runningSince = undefined;
    const from = now - limits.runWindowSeconds * 1000;
    this.runs = this.runs.filter((r) => r.end > from);
  }

  /** The budget is used up: the run ends here and the rest begins. */
  exhausted(now: number, limits: PumpBudgetLimits): number {
    this.runningSince = undefined;
    this.runs = [];
    this.restUntil = now + limits.restSeconds * 1000;
    return this.restUntil;
  }
}
