import type { ActuatorInfo, Hal } from '@growoff/hal';
import { ProtocolError, type ActuatorCommand } from '@growoff/protocol';
import type { ActuatorState, Feature } from '../core-types';
import type { EventBus } from '../event-bus';
import type { StateStore } from '../state/state-store';
import type { ConfigHolder } from '../config/config-holder';
import { raiseEvent } from '../state/events';
import { pumpInterlock } from './interlocks';

export type CommandSource =
  'rest' | 'mqtt' | 'schedule' | 'climate' | 'irrigation' | 'interlock' | 'shutdown' | 'startup';
type Command = { state: 'on' | 'off' } | { level: number };

function isOn(state: ActuatorState): boolean {
  return 'state' in state ? state.state === 'on' : state.level > 0;
}

/**
 * The only way anything drives an actuator: manual commands and control loops alike pass the
 * interlocks here, and every change is read back and announced. The pump's run time is capped
 * and the pump is stopped the moment its interlock trips.
 */
export class ActuatorController implements Feature {
  readonly name = 'actuators';
  private pumpTimer?: NodeJS.Timeout;
  private staleCheck?: NodeJS.Timeout;
  private off?: () => void;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly hal: Hal,
    private readonly store: StateStore,
    private readonly bus: EventBus,
    private readonly config: ConfigHolder,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    for (const a of this.hal.actuators()) {
      try {
        this.record(a.id, await this.hal.actuatorState(a.id), 'startup');
      } catch (e) {
        // A missing chip must not keep the core from starting (it runs degraded, see HardwareWatch).
        raiseEvent(this.bus, 'actuator.error', 'error', `${a.id} cannot be read: ${(e as Error).message}`, {
          actuator: a.id,
        });
      }
    }
    this.off = this.bus.on('reading', (r) => {
      if (this.hal.roles().waterLevels.some((l) => l.sensor === r.id)) void this.enforcePumpInterlock();
    });
    // A water level that stops arriving goes stale without any reading event: check on a clock too.
    this.staleCheck = setInterval(() => void this.enforcePumpInterlock(), 1000);
    this.staleCheck.unref();
  }

  async stop(): Promise<void> {
    this.off?.();
    clearInterval(this.staleCheck);
    clearTimeout(this.pumpTimer);
    await this.safeState();
  }

  info(id: string): ActuatorInfo {
    const info = this.hal.actuators().find((a) => a.id === id);
    if (!info) throw new ProtocolError('UNKNOWN_ACTUATOR', `no actuator "${id}"`, { actuators: this.ids() });
    return info;
  }

  ids(): string[] {
    return this.hal.actuators().map((a) => a.id);
  }

  /** The actuator bound to a role in the hardware profile, if the profile has one. */
  role(name: 'pump' | 'light' | 'fan'): string | undefined {
    return this.hal.roles()[name];
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
    const run = this.queue.then(() => this.apply(info, normalized, source));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Everything off: used on shutdown and when the core cannot trust its inputs. */
  async safeState(): Promise<void> {
    for (const a of this.hal.actuators()) {
      const cmd: Command = a.kind === 'switch' ? { state: 'off' } : { level: 0 };
      try {
        await this.set(a.id, cmd, 'shutdown');
      } catch (e) {
        raiseEvent(
          this.bus,
          'actuator.error',
          'error',
          `could not switch ${a.id} off: ${(e as Error).message}`,
          {
            actuator: a.id,
          },
        );
      }
    }
  }

  private async apply(info: ActuatorInfo, cmd: Command, source: CommandSource): Promise<ActuatorState> {
    const pump = this.role('pump');
    if (info.id === pump && isOn(cmd)) {
      const refusal = pumpInterlock(this.store, this.config.get(), this.now(), this.hal.roles().waterLevels);
      if (refusal)
        throw new ProtocolError('INTERLOCK', refusal.message, { ...refusal, actuator: pump, source });
    }
    let state: ActuatorState;
    try {
      state = await this.hal.setActuator(info.id, cmd);
    } catch (e) {
      throw new ProtocolError('UNAVAILABLE', `${info.id} did not take the command: ${(e as Error).message}`, {
        actuator: info.id,
      });
    }
    this.record(info.id, state, source);
    if (info.id === pump) this.armPumpLimit(pump, isOn(state));
    return state;
  }

  private record(id: string, state: ActuatorState, source: string): void {
    const ts = this.now();
    this.store.setActuator(id, state, ts);
    this.bus.emit('actuator', { id, state, ts, source });
  }

  private armPumpLimit(pump: string, running: boolean): void {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (!running) return;
    const maxS = this.config.get().irrigation.maxRunSeconds;
    this.pumpTimer = setTimeout(() => {
      raiseEvent(
        this.bus,
        'pump.max_run',
        'warning',
        `pump stopped after its maximum run time of ${maxS} s`,
        {
          maxRunSeconds: maxS,
        },
      );
      void this.set(pump, { state: 'off' }, 'interlock').catch(() => undefined);
    }, maxS * 1000);
    this.pumpTimer.unref();
  }

  private async enforcePumpInterlock(): Promise<void> {
    const pump = this.role('pump');
    if (pump === undefined || !this.isOn(pump)) return;
    const refusal = pumpInterlock(this.store, this.config.get(), this.now(), this.hal.roles().waterLevels);
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
