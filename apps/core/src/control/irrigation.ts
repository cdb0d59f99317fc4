import { ProtocolError } from '@growoff/protocol';
import type { Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { ConfigHolder } from '../config/config-holder';
import type { ActuatorController, CommandSource } from './actuators';
import type { UpdateLock } from './update-lock';
import type { IrrigationMemory } from './irrigation-memory';
import { raiseEvent } from '../state/events';

export interface IrrigationStatus {
  running: boolean;
  startedAt?: number;
  endsAt?: number;
  nextAt?: number;
}

/** A clock set back more than this (a Pi without RTC before NTP) makes a saved last run meaningless. */
const CLOCK_BACK_TOLERANCE_MS = 60_000;
/** A cycle due at start waits this long, so the water level has been read (the interlock needs it). */
export const START_GRACE_MS = 30_000;

/**
 * Irrigation cycles: every `everyMinutes` the pump runs for `runSeconds`, holding the update lock.
 * The interval counts from the last cycle's start, which is saved in the data dir: a restart does
 * not start the interval again, and a cycle missed while the core was down runs at start.
 * The pump's interlocks and maximum run time apply as to any command; a cycle the interlock refuses
 * is skipped with an event, and a cycle whose pump is stopped by anyone ends there.
 */
export class IrrigationCycles implements Feature {
  readonly name = 'irrigation';
  private schedule?: NodeJS.Timeout;
  private cycleEnd?: NodeJS.Timeout;
  private cycle?: { startedAt: number; endsAt: number };
  private nextAt?: number;
  private lastRunAt?: number;
  private earliest = 0;
  private offs: (() => void)[] = [];

  constructor(
    private readonly actuators: ActuatorController,
    private readonly config: ConfigHolder,
    private readonly lock: UpdateLock,
    private readonly bus: EventBus,
    private readonly memory: IrrigationMemory,
    private readonly now: () => number = Date.now,
    private readonly startGraceMs = START_GRACE_MS,
  ) {}

  async start(): Promise<void> {
    const pump = this.actuators.role('pump');
    if (pump === undefined) return;
    this.lastRunAt = await this.memory.lastRun();
    this.earliest = this.now() + this.startGraceMs;
    this.offs.push(
      this.bus.on('actuator', (a) => {
        if (a.id === pump && this.cycle && a.source !== 'irrigation' && !this.actuators.isOn(pump)) {
          this.finish(`pump stopped by ${a.source}`);
        }
      }),
      this.bus.on('config', () => this.plan()),
    );
    this.plan();
  }

  stop(): void {
    clearTimeout(this.schedule);
    for (const off of this.offs) off();
    this.offs = [];
    if (this.cycle) this.finish('core stopping');
  }

  status(): IrrigationStatus {
    return this.cycle
      ? { running: true, startedAt: this.cycle.startedAt, endsAt: this.cycle.endsAt, nextAt: this.nextAt }
      : { running: false, nextAt: this.nextAt };
  }

  /** Starts a cycle now (scheduled or on request); refuses while one runs or the pump is interlocked. */
  async startCycle(source: CommandSource, runSeconds?: number): Promise<IrrigationStatus> {
    if (this.cycle)
      throw new ProtocolError('CONFLICT', 'an irrigation cycle is already running', this.status());
    const { irrigation } = this.config.get();
    const seconds = Math.min(runSeconds ?? irrigation.runSeconds, irrigation.maxRunSeconds);
    const startedAt = this.now();
    this.cycle = { startedAt, endsAt: startedAt + seconds * 1000 };
    this.lastRunAt = startedAt;
    this.lock.acquire('irrigation');
    // Saved before the pump starts: a crash loop during a cycle does not start it again at each start.
    await this.memory.save(startedAt).catch((e: unknown) => {
      raiseEvent(
        this.bus,
        'control.error',
        'warning',
        `could not save the irrigation time; after a restart the interval counts from the start: ${(e as Error).message}`,
        { loop: 'irrigation' },
      );
    });
    try {
      await this.actuators.set(this.actuators.roleId('pump'), { state: 'on' }, 'irrigation');
    } catch (e) {
      this.cycle = undefined;
      this.lock.release();
      throw e;
    }
    raiseEvent(this.bus, 'irrigation.started', 'info', `irrigation cycle started for ${seconds} s`, {
      source,
      runSeconds: seconds,
    });
    this.cycleEnd = setTimeout(() => void this.endCycle(), seconds * 1000);
    this.cycleEnd.unref();
    return this.status();
  }

  async stopCycle(source: CommandSource): Promise<IrrigationStatus> {
    if (!this.cycle) return this.status();
    await this.actuators.set(this.actuators.roleId('pump'), { state: 'off' }, 'irrigation');
    this.finish(`stopped by ${source}`);
    return this.status();
  }

  private async endCycle(): Promise<void> {
    try {
      await this.actuators.set(this.actuators.roleId('pump'), { state: 'off' }, 'irrigation');
      this.finish('completed');
    } catch (e) {
      this.finish(`could not stop the pump: ${(e as Error).message}`);
    }
  }

  private finish(how: string): void {
    if (!this.cycle) return;
    clearTimeout(this.cycleEnd);
    const { startedAt } = this.cycle;
    this.cycle = undefined;
    this.lock.release();
    raiseEvent(this.bus, 'irrigation.ended', 'info', `irrigation cycle ended: ${how}`, {
      durationS: Math.round((this.now() - startedAt) / 1000),
    });
  }

  private plan(): void {
    clearTimeout(this.schedule);
    this.nextAt = undefined;
    const { irrigation } = this.config.get();
    if (!irrigation.enabled) return;
    const everyMs = irrigation.everyMinutes * 60_000;
    const now = this.now();
    const last = this.lastRunAt;
    // Unknown, or in the future (the clock was set back): count the interval from now.
    const due = last === undefined || last > now + CLOCK_BACK_TOLERANCE_MS ? now + everyMs : last + everyMs;
    this.nextAt = Math.max(now, due, this.earliest);
    this.schedule = setTimeout(() => {
      void this.startCycle('schedule').catch((e: unknown) => {
        raiseEvent(
          this.bus,
          'irrigation.skipped',
          'warning',
          `scheduled irrigation skipped: ${(e as Error).message}`,
          {
            code: e instanceof ProtocolError ? e.code : 'INTERNAL',
          },
        );
      });
      this.plan();
    }, this.nextAt - now);
    this.schedule.unref();
  }
}
