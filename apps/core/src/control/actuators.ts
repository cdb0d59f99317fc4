import { systemClock, withTimeout, type ActuatorInfo, type Hal } from '@growoff/hal';
import { ProtocolError, type ActuatorCommand } from '@growoff/protocol';
import type { ActuatorState, Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { StateStore } from '../state/state-store';
import type { ConfigHolder } from '../config/config-holder';
import { raiseEvent } from '../state/events';
import { pumpInterlock } from './interlocks';
import { PumpRunBudget } from './pump-budget';

export type CommandSource =
  | 'rest'
  | 'mqtt'
  | 'schedule'
  | 'climate'
  | 'irrigation'
  | 'interlock'
  | 'shutdown'
  | 'startup'
  | 'reconcile';
type Command = { state: 'on' | 'off' } | { level: number };

/** What shutdown achieved: an actuator is safe only when it read back safe. */
export interface SafeStateReport {
  confirmed: string[];
  unconfirmed: { id: string; error: string }[];
}

/** Pause between two attempts to drive an unconfirmed actuator to safe during shutdown (ms). */
const SAFE_RETRY_MS = 100;

/** On, or possibly on: an actuator whose state is unknown counts as running for every limit. */
export function isOn(state: ActuatorState): boolean {
  return 'state' in state ? state.state !== 'off' : state.level > 0;
}

export function isUnknown(state: ActuatorState): boolean {
  return 'state' in state && state.state === 'unknown';
}

function safeCommand(info: ActuatorInfo): Command {
  return info.kind === 'switch' ? { state: 'off' } : { level: 0 };
}

/** A read-back confirms a command when the switch matches, or the level within rounding. */
function matches(state: ActuatorState, cmd: Command): boolean {
  if ('level' in cmd) return 'level' in state && Math.abs(state.level - cmd.level) <= 1;
  return 'state' in state && state.state === cmd.state;
}

function show(s: ActuatorState | Command): string {
  return 'level' in s ? `level ${s.level}` : s.state;
}

function halCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The only way anything drives an actuator: manual commands and control loops alike pass the
 * interlocks here, and every change is read back and announced.
 * - An actuator whose state cannot be confirmed (its read-back fails) is `unknown`: published so,
 *   counted as on by every interlock and limit, and driven to safe until it reads back safe.
 * - The pump runs on a budget (see PumpRunBudget); it is stopped the moment its interlock trips.
 * - At start every actuator is read and any found on (a latch kept through a crash) is driven safe.
 * - Every actuator is read back at `actuators.reconcileIntervalMs`; a mismatch with the desired state
 *   (a brown-out) re-applies it.
 * - On shutdown, safe state preempts queued commands: all actuators at once, pump first, bounded.
 */
export class ActuatorController implements Feature {
  readonly name = 'actuators';
  private readonly budget = new PumpRunBudget();
  private readonly desired = new Map<string, Command>();
  private readonly unknown = new Set<string>();
  private pumpTimer?: NodeJS.Timeout;
  private staleCheck?: NodeJS.Timeout;
  private reconcileTimer?: NodeJS.Timeout;
  private reconciling = false;
  private offs: (() => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;
  /** Set the moment shutdown begins: from then on only the safe-state drive touches an actuator. */
  private stopping = false;
  private safeReport?: Promise<SafeStateReport>;
  /** The profile's actuators and roles, fixed once the HAL is made; asked on every command and reading. */
  private profile?: { actuators: ActuatorInfo[]; roles: ReturnType<Hal['roles']> };

  constructor(
    private readonly hal: Hal,
    private readonly store: StateStore,
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
    private readonly now: () => number = Date.now,
    /** The run budget's time line: monotonic, so a wall-clock step (NTP) cannot stretch a run. */
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  private get fixed(): { actuators: ActuatorInfo[]; roles: ReturnType<Hal['roles']> } {
    // The HAL hands out copies (roles by structuredClone): one each, read only, instead of one per call.
    return (this.profile ??= { actuators: this.hal.actuators(), roles: this.hal.roles() });
  }

  /** Reads every actuator and drives any found in a non-safe state to safe, before any loop runs. */
  async start(): Promise<void> {
    const startup = this.queue.then(() => Promise.all(this.fixed.actuators.map((a) => this.adopt(a))));
    this.queue = startup.catch(() => undefined);
    await startup;
    this.started = true;
    this.offs.push(
      this.bus.on('reading', (r) => {
        if (this.fixed.roles.waterLevels.some((l) => l.sensor === r.id)) void this.enforcePumpInterlock();
      }),
      this.bus.on('config', () => {
        this.scheduleReconcile();
        if (this.budget.running()) this.armPumpLimit();
      }),
    );
    // A water level that stops arriving goes stale without any reading event: check on a clock too.
    this.staleCheck = setInterval(() => void this.enforcePumpInterlock(), 1000);
    this.staleCheck.unref();
    this.scheduleReconcile();
  }

  async stop(): Promise<void> {
    await this.safeState();
  }

  info(id: string): ActuatorInfo {
    const info = this.fixed.actuators.find((a) => a.id === id);
    if (!info) throw new ProtocolError('UNKNOWN_ACTUATOR', `no actuator "${id}"`, { actuators: this.ids() });
    return info;
  }

  ids(): string[] {
    return this.fixed.actuators.map((a) => a.id);
  }

  /** The actuator bound to a role in the hardware profile, if the profile has one. */
  role(name: 'pump' | 'light' | 'fan'): string | undefined {
    return this.fixed.roles[name];
  }

  private isPump(id: string): boolean {
    return id === this.role('pump');
  }

  /** The actuator bound to a role; a coded refusal when the profile binds none. */
  roleId(name: 'pump' | 'light' | 'fan'): string {
    const id = this.role(name);
    if (id === undefined)
      throw new ProtocolError('UNKNOWN_ACTUATOR', `the hardware profile has no ${name}`, { role: name });
    return id;
  }

  isOn(id: string): boolean {
    const s = this.store.actuator(id);
    return s !== undefined && isOn(s.state);
  }

  /** Applies a command after the interlocks; resolves with the state read back from the device. */
  set(id: string, cmd: ActuatorCommand | Command, source: CommandSource): Promise<ActuatorState> {
    const info = this.info(id);
    const normalized = normalize(info, cmd);
    // Commands to the devices are serialised: an interlock check and its write cannot interleave with another.
    return this.enqueue(() => this.apply(info, normalized, source));
  }

  /**
   * Everything to safe, once: later commands are refused, queued ones are skipped, and every
   * actuator is driven at the same time (pump first) without waiting for the queue. Each attempt
   * is bounded and the whole within budgetMs; the report names what did not read back safe.
   */
  safeState(budgetMs = 3000): Promise<SafeStateReport> {
    this.stopping = true;
    this.safeReport ??= this.driveAllSafe(budgetMs);
    return this.safeReport;
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(info: ActuatorInfo, cmd: Command, source: CommandSource): Promise<ActuatorState> {
    const { id } = info;
    const safe = !isOn(cmd);
    if (this.stopping || !this.started) {
      throw new ProtocolError(
        'UNAVAILABLE',
        `${id} refused: the core is ${this.stopping ? 'stopping' : 'starting'}`,
        {
          actuator: id,
        },
      );
    }
    if (this.unknown.has(id) && !safe) {
      throw new ProtocolError(
        'UNAVAILABLE',
        `${id} refused: its state cannot be confirmed (read-back failing); it is being driven to safe`,
        { actuator: id, state: 'unknown' },
      );
    }
    if (this.isPump(id) && !safe) this.checkPump(source);
    let state: ActuatorState;
    try {
      state = await this.drive(id, cmd);
    } catch (e) {
      this.markUnknown(info, e);
      throw new ProtocolError('UNAVAILABLE', `${id} did not take the command: ${(e as Error).message}`, {
        actuator: id,
      });
    }
    this.confirmed(info, state, cmd, source);
    return state;
  }

  private checkPump(source: CommandSource): void {
    const limits = this.config.get().irrigation;
    const refusal = pumpInterlock(this.store, this.config.get(), this.now(), this.fixed.roles.waterLevels);
    if (refusal)
      throw new ProtocolError('INTERLOCK', refusal.message, {
        ...refusal,
        actuator: this.role('pump'),
        source,
      });
    const now = this.monotonic();
    if (!this.budget.running() && this.budget.remainingMs(now, limits) === 0) {
      const restUntil = this.wallTime(this.budget.restingUntil(now) ?? this.budget.exhausted(now, limits));
      throw new ProtocolError(
        'PUMP_RESTING',
        `pump refused: it ran its ${limits.maxRunSeconds} s budget and rests until ${new Date(restUntil).toISOString()}`,
        { actuator: this.role('pump'), source, restUntil, ...pick(limits) },
      );
    }
  }

  /**
   * One write with its read-back. A read-back that disagrees means the chip lost its configuration
   * (a brown-out); the HAL re-initialises it before the next operation, so that one gets a second try.
   */
  private async drive(id: string, cmd: Command): Promise<ActuatorState> {
    try {
      return await this.hal.setActuator(id, cmd);
    } catch (e) {
      if (halCode(e) !== 'HAL_DEVICE_ERROR') throw e;
      return this.hal.setActuator(id, cmd);
    }
  }

  /** A command read back as sent: record it as the desired and confirmed state. */
  private confirmed(info: ActuatorInfo, state: ActuatorState, cmd: Command, source: string): void {
    const wasUnknown = this.unknown.delete(info.id);
    this.desired.set(info.id, cmd);
    this.record(info.id, state, source);
    if (wasUnknown) {
      raiseEvent(this.bus, 'actuator.confirmed', 'info', `${info.id} reads back ${show(state)} again`, {
        actuator: info.id,
        state,
      });
    }
    if (!this.isPump(info.id)) return;
    const limits = this.config.get().irrigation;
    if (isOn(state)) this.budget.started(this.monotonic());
    else this.budget.stopped(this.monotonic(), limits);
    this.armPumpLimit();
  }

  /**
   * The write may have landed while its read-back failed: treat the actuator as on until it reads
   * back safe, and drive it there. The pump's desired state becomes off; a dimmer keeps its desired
   * level, which reconcile re-applies once the chip answers again.
   */
  private markUnknown(info: ActuatorInfo, e: unknown): void {
    const { id } = info;
    if (this.isPump(id)) this.desired.set(id, safeCommand(info));
    if (this.unknown.has(id)) return;
    this.unknown.add(id);
    this.record(id, { state: 'unknown' }, 'read-back');
    raiseEvent(
      this.bus,
      'actuator.unknown',
      this.isPump(id) ? 'critical' : 'error',
      `${id} state cannot be confirmed (${(e as Error).message}); treated as on and driven to safe`,
      { actuator: id, error: (e as Error).message, code: halCode(e) },
    );
    if (this.isPump(id)) {
      this.budget.started(this.monotonic());
      this.armPumpLimit();
    }
    if (!this.stopping) void this.enqueue(() => this.driveSafe(info)).catch(() => undefined);
  }

  /** One attempt to bring an unknown actuator back to a confirmed safe state. */
  private async driveSafe(info: ActuatorInfo): Promise<void> {
    if (!this.unknown.has(info.id) || this.stopping) return;
    const cmd = safeCommand(info);
    const keep = this.desired.get(info.id);
    try {
      const state = await this.drive(info.id, cmd);
      this.confirmed(info, state, cmd, 'safe-state');
      if (keep) this.desired.set(info.id, keep);
    } catch {
      // Still unknown: reconcile tries again at its next round.
    }
  }

  private async adopt(info: ActuatorInfo): Promise<void> {
    const safe = safeCommand(info);
    try {
      const found = await this.hal.actuatorState(info.id);
      if (!isOn(found)) {
        this.confirmed(info, found, safe, 'startup');
        return;
      }
      raiseEvent(
        this.bus,
        'actuator.found_unsafe',
        this.isPump(info.id) ? 'critical' : 'warning',
        `${info.id} was ${show(found)} at start (state kept through a restart); driven to safe`,
        { actuator: info.id, found },
      );
      this.confirmed(info, await this.drive(info.id, safe), safe, 'startup');
    } catch (e) {
      this.desired.set(info.id, safe);
      this.markUnknown(info, e);
    }
  }

  private scheduleReconcile(): void {
    clearInterval(this.reconcileTimer);
    if (this.stopping) return;
    this.reconcileTimer = setInterval(() => {
      if (this.reconciling || this.stopping) return;
      this.reconciling = true;
      void this.enqueue(() => this.reconcile()).finally(() => (this.reconciling = false));
    }, this.config.get().actuators.reconcileIntervalMs);
    this.reconcileTimer.unref();
  }

  /** Reads every actuator back; re-applies the desired state where the device disagrees. */
  private async reconcile(): Promise<void> {
    for (const info of this.fixed.actuators) {
      if (this.stopping) return;
      if (this.unknown.has(info.id)) {
        await this.driveSafe(info);
        continue;
      }
      const desired = this.desired.get(info.id) ?? safeCommand(info);
      let actual: ActuatorState;
      try {
        actual = await this.hal.actuatorState(info.id);
      } catch (e) {
        this.markUnknown(info, e);
        continue;
      }
      if (matches(actual, desired)) continue;
      raiseEvent(
        this.bus,
        'actuator.mismatch',
        'warning',
        `${info.id} reads back ${show(actual)} but should be ${show(desired)} (power loss or reset?); re-applying`,
        { actuator: info.id, desired, actual },
      );
      try {
        await this.apply(info, desired, 'reconcile');
      } catch (e) {
        // The desired state is no longer allowed (e.g. the pump's interlock): hold the safe one.
        if (e instanceof ProtocolError && e.code !== 'UNAVAILABLE') {
          await this.apply(info, safeCommand(info), 'reconcile').catch(() => undefined);
        }
      }
    }
  }

  private async driveAllSafe(budgetMs: number): Promise<SafeStateReport> {
    clearInterval(this.staleCheck);
    clearInterval(this.reconcileTimer);
    clearTimeout(this.pumpTimer);
    for (const off of this.offs.splice(0)) off();
    const deadline = this.now() + budgetMs;
    const ordered = [...this.fixed.actuators].sort(
      (a, b) => Number(this.isPump(b.id)) - Number(this.isPump(a.id)),
    );
    const results = await Promise.all(ordered.map((a) => this.toSafeBy(a, deadline)));
    const report: SafeStateReport = { confirmed: [], unconfirmed: [] };
    for (const [i, error] of results.entries()) {
      const id = ordered[i]!.id;
      if (error === undefined) report.confirmed.push(id);
      else report.unconfirmed.push({ id, error });
    }
    if (report.unconfirmed.length > 0) {
      raiseEvent(
        this.bus,
        'shutdown.unsafe',
        'critical',
        `not confirmed safe at shutdown: ${report.unconfirmed.map((u) => `${u.id} (${u.error})`).join(', ')}`,
        report,
      );
    }
    return report;
  }

  /** Retries one actuator's safe command until it reads back safe or the deadline passes. */
  private async toSafeBy(info: ActuatorInfo, deadline: number): Promise<string | undefined> {
    const cmd = safeCommand(info);
    let error = 'no attempt within the shutdown budget';
    for (;;) {
      const left = deadline - this.now();
      if (left <= 0) break;
      try {
        const state = await withTimeout(systemClock, left, this.drive(info.id, cmd), () => {
          return new Error(`no answer within ${Math.round(left)} ms`);
        });
        this.confirmed(info, state, cmd, 'shutdown');
        return undefined;
      } catch (e) {
        error = (e as Error).message;
        if (!this.unknown.has(info.id)) this.markUnknown(info, e);
      }
      if (deadline - this.now() > SAFE_RETRY_MS) await new Promise((r) => setTimeout(r, SAFE_RETRY_MS));
      else break;
    }
    return error;
  }

  /** A time on the budget's monotonic line as wall-clock ms, for messages and clients. */
  private wallTime(monotonic: number): number {
    return this.now() + (monotonic - this.monotonic());
  }

  private record(id: string, state: ActuatorState, source: string): void {
    const ts = this.now();
    this.store.setActuator(id, state, ts);
    this.bus.emit('actuator', { id, state, ts, source });
  }

  /** Arms the pump's stop for when its budget runs out; cleared while it is off. */
  private armPumpLimit(): void {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (!this.budget.running() || this.stopping) return;
    const limits = this.config.get().irrigation;
    this.pumpTimer = setTimeout(
      () => {
        const now = this.monotonic();
        // Already resting (the pump went unknown during the rest): only the stop is still owed.
        if (this.budget.restingUntil(now) === undefined) {
          if (this.budget.remainingMs(now, limits) > 0) {
            this.armPumpLimit();
            return;
          }
          const restUntil = this.wallTime(this.budget.exhausted(now, limits));
          raiseEvent(
            this.bus,
            'pump.max_run',
            'warning',
            `pump stopped: it ran its ${limits.maxRunSeconds} s budget; resting until ${new Date(restUntil).toISOString()}`,
            { restUntil, ...pick(limits) },
          );
        }
        const pump = this.info(this.roleId('pump'));
        void this.enqueue(() => this.apply(pump, safeCommand(pump), 'interlock')).catch(() => undefined);
      },
      this.budget.remainingMs(this.monotonic(), limits),
    );
    this.pumpTimer.unref();
  }

  private async enforcePumpInterlock(): Promise<void> {
    const pump = this.role('pump');
    if (pump === undefined || !this.isOn(pump) || this.unknown.has(pump)) return;
    const refusal = pumpInterlock(this.store, this.config.get(), this.now(), this.fixed.roles.waterLevels);
    if (!refusal) return;
    try {
      await this.set(pump, { state: 'off' }, 'interlock');
      raiseEvent(
        this.bus,
        'interlock.tripped',
        'critical',
        refusal.message.replace('pump refused', 'pump stopped'),
        refusal,
      );
    } catch (e) {
      raiseEvent(
        this.bus,
        'actuator.error',
        'critical',
        `interlock could not stop the pump: ${(e as Error).message}`,
      );
    }
  }
}

function pick(l: { maxRunSeconds: number; runWindowSeconds: number; restSeconds: number }) {
  return { maxRunSeconds: l.maxRunSeconds, runWindowSeconds: l.runWindowSeconds, restSeconds: l.restSeconds };
}

function normalize(info: ActuatorInfo, cmd: ActuatorCommand | Command): Command {
  if (info.kind === 'switch') {
    if ('state' in cmd) return { state: cmd.state };
    throw new ProtocolError('INVALID_MESSAGE', `${info.id} is a switch: send {"state":"on"|"off"}`, {
      actuator: info.id,
      kind: info.kind,
    });
  }
  if ('level' in cmd) return { level: cmd.level };
  return { level: cmd.state === 'on' ? 100 : 0 };
}
