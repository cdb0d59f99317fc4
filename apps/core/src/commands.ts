import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Hal, SensorInfo } from '@growoff/hal';
import {
  AckAlarmRequest,
  CalibrationRequest,
  HistoryQuery,
  ProtocolError,
  type CodedError,
  validate,
} from '@growoff/protocol';
import type { EventBus } from './event-bus';
import type { StateStore } from './state/state-store';
import type { ConfigHolder } from './config/config-holder';
import type { ActuatorController } from './control/actuators';
import type { IrrigationCycles } from './control/irrigation';
import type { UpdateLock } from './control/update-lock';
import { raiseEvent } from './state/events';
import type { ActuatorState, SensorSnapshot } from './core-types';
import type { HistoryStore } from './history/history-store';
import type { CalibrationService } from './calibration/calibration-service';
import type { AlarmMonitor } from './alarms/alarm-monitor';

export type RequestSource = 'rest' | 'mqtt';

const NoParams = Type.Object({}, { additionalProperties: true });
const SensorParams = Type.Object({ sensor: Type.String() });
const ActuatorParams = Type.Object({ actuator: Type.String() });
const SetActuatorParams = Type.Union([
  Type.Object(
    { actuator: Type.String(), state: Type.Union([Type.Literal('on'), Type.Literal('off')]) },
    { additionalProperties: false },
  ),
  Type.Object(
    { actuator: Type.String(), level: Type.Number({ minimum: 0, maximum: 100 }) },
    { additionalProperties: false },
  ),
]);
const EventsParams = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) });
const CalibrateParams = Type.Object(
  { sensor: Type.String(), ...CalibrationRequest.properties },
  { additionalProperties: false },
);
const IrrigationParams = Type.Object({
  runSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
});

/**
 * The one path for every command and query, whatever carried it: REST routes and MQTT
 * requests and `set` topics all end in `execute`. A refused command changes nothing and
 * raises a `command.rejected` event.
 */
export class CommandService {
  private sensorList?: SensorInfo[];
  private readonly methods: Record<
    string,
    { params: TSchema; run: (p: never, source: RequestSource) => unknown }
  >;

  constructor(
    private readonly deps: {
      hal: Hal;
      store: StateStore;
      bus: EventBus;
      config: ConfigHolder;
      actuators: ActuatorController;
      irrigation: IrrigationCycles;
      lock: UpdateLock;
      history: HistoryStore;
      calibration: CalibrationService;
      alarms: AlarmMonitor;
    },
  ) {
    const { store, config, actuators, irrigation, lock, history, calibration, alarms } = deps;
    this.methods = {
      get_sensors: method(NoParams, () => this.sensors()),
      get_sensor: method(SensorParams, (p) => this.sensor(p.sensor)),
      get_actuators: method(NoParams, () => this.actuatorList()),
      get_actuator: method(ActuatorParams, (p) => this.actuator(p.actuator)),
      set_actuator: method(SetActuatorParams, async (p, source) => {
        // The parameters are exactly the actuator and one of state or level (no other property passes).
        const cmd = 'state' in p ? { state: p.state } : { level: p.level };
        await actuators.set(p.actuator, cmd, source);
        return this.actuator(p.actuator);
      }),
      get_config: method(NoParams, () => config.get()),
      set_config: method(NoParams, (p) => config.update(p)),
      get_update_lock: method(NoParams, () => lock.state()),
      get_events: method(EventsParams, (p) => store.recentEvents(p.limit ?? 100)),
      start_irrigation: method(IrrigationParams, (p, source) => irrigation.startCycle(source, p.runSeconds)),
      stop_irrigation: method(NoParams, (_p, source) => irrigation.stopCycle(source)),
      get_irrigation: method(NoParams, () => irrigation.status()),
      get_history: method(HistoryQuery, ({ sensor, ...q }) =>
        history.query(sensor, this.sensor(sensor).unit, q),
      ),
      get_calibration: method(SensorParams, (p) => calibration.status(p.sensor)),
      calibrate: method(CalibrateParams, ({ sensor, ...req }, source) =>
        calibration.calibrate(sensor, req, source),
      ),
      get_alarms: method(NoParams, () => ({ alarms: alarms.active() })),
      ack_alarm: method(AckAlarmRequest, (p, source) => alarms.acknowledge(p.sensor, p.limit, source)),
    };
  }

  methodNames(): string[] {
    return Object.keys(this.methods);
  }

  /** Runs a method; resolves with its result or rejects with a ProtocolError (never anything else). */
  async execute(name: string, params: unknown, source: RequestSource): Promise<unknown> {
    try {
      const m = Object.hasOwn(this.methods, name) ? this.methods[name] : undefined;
      if (!m)
        throw new ProtocolError('UNKNOWN_METHOD', `no method "${name}"`, { methods: this.methodNames() });
      const checked = validate(m.params, params);
      if (!checked.ok)
        throw new ProtocolError('INVALID_MESSAGE', `invalid parameters for ${name}`, checked.errors);
      return await m.run(checked.value as never, source);
    } catch (e) {
      const error = asProtocolError(e);
      this.rejected(source, name, error);
      throw error;
    }
  }

  /** Records a refusal that happened before a method could run (bad JSON, bad topic). */
  rejected(source: RequestSource, target: string, error: CodedError): void {
    raiseEvent(this.deps.bus, 'command.rejected', 'warning', `${source} ${target}: ${error.message}`, {
      source,
      target,
      code: error.code,
      message: error.message,
      details: error.details,
    });
  }

  sensors(): (SensorSnapshot & { intervalMs: number })[] {
    return this.sensorInfo().map((s) => withInterval(this.snapshot(s.id, s.unit), s.intervalMs));
  }

  /** Changes whenever `sensors()` (and `get_sensors`) would answer differently. */
  sensorsVersion(): number {
    return this.deps.store.readingsVersion;
  }

  sensor(id: string): SensorSnapshot & { intervalMs: number } {
    const info = this.sensorInfo().find((s) => s.id === id);
    if (!info)
      throw new ProtocolError('UNKNOWN_SENSOR', `no sensor "${id}"`, {
        sensors: this.sensorInfo().map((s) => s.id),
      });
    return withInterval(this.snapshot(id, info.unit), info.intervalMs);
  }

  /** The profile's sensors, fixed once the HAL is made (the HAL builds the list anew on each call). */
  private sensorInfo(): SensorInfo[] {
    return (this.sensorList ??= this.deps.hal.sensors());
  }

  actuatorList(): ReturnType<CommandService['actuator']>[] {
    return this.deps.actuators.ids().map((id) => this.actuator(id));
  }

  actuator(id: string): { id: string; kind: 'switch' | 'dimmer'; ts: number } & ActuatorState {
    const info = this.deps.actuators.info(id);
    const s = this.deps.store.actuator(id);
    const state = s?.state ?? (info.kind === 'switch' ? { state: 'off' as const } : { level: 0 });
    return Object.assign({ id, kind: info.kind }, state, { ts: s?.ts ?? 0 });
  }

  private snapshot(id: string, unit: string): SensorSnapshot {
    return (
      this.deps.store.reading(id) ?? {
        id,
        value: null,
        unit,
        quality: 'unavailable',
        ts: 0,
        error: 'not sampled yet',
      }
    );
  }
}

/**
 * A snapshot with its sensor's interval, the keys in the same order as `{ ...snapshot, intervalMs }`:
 * on Node 20 that spread followed by a property takes a slow path of V8, some 4 µs an object.
 */
function withInterval(snapshot: SensorSnapshot, intervalMs: number): SensorSnapshot & { intervalMs: number } {
  return Object.assign({}, snapshot, { intervalMs });
}

function method<S extends TSchema>(
  params: S,
  run: (p: Static<S>, source: RequestSource) => unknown,
): { params: TSchema; run: (p: never, source: RequestSource) => unknown } {
  return { params, run: run as (p: never, source: RequestSource) => unknown };
}

export function asProtocolError(e: unknown): ProtocolError {
  if (e instanceof ProtocolError) return e;
  return new ProtocolError('INTERNAL', 'internal error while handling the command');
}
