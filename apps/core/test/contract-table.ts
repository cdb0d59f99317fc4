import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type, type TSchema } from '@sinclair/typebox';
import { DEFAULT_PROFILE } from '@growoff/hal';
import {
  ActuatorState,
  Alarm,
  AppStatusList,
  CalibrationStatus,
  Event,
  History,
  SensorReading,
  SessionState,
  UpdateLock,
  type ErrorCode,
} from '@growoff/protocol';
import type { SensorSnapshot } from '../src/core-types';
import type { RunningCore } from '../src/core';
import { ModuleConfig } from '../src/config/module-config';
import { rest } from './helpers';

/**
 * The core's request contract, ONE list: every MQTT request method (`core/req/{method}`) and every
 * REST route, each with a call that succeeds and, per error code it can answer, a call that draws
 * that code. The contract tests run this table; a method or route missing here fails them.
 */

/** A state of the cabinet a call needs: set up before the call and undone after it. */
export type Given =
  'water low' | 'pump chip failing' | 'irrigation running' | 'light sensor stuck' | 'ph alarm active';

export interface MqttCall {
  /** The raw payload text (not always JSON: BAD_JSON cases send garbage). */
  payload: string;
  given?: Given[];
  /** A state the call itself leaves behind, undone after it. */
  leaves?: Given;
}

export interface MqttMethodContract {
  ok: MqttCall & { result: TSchema };
  errors: Partial<Record<ErrorCode, MqttCall>>;
}

export interface RestCall {
  /** The concrete path with its query, e.g. `/api/v1/sensors/ph`; the route's own path by default. */
  path?: string;
  /** A JSON value, or a string sent as is with content-type application/json. */
  body?: unknown;
  given?: Given[];
  leaves?: Given;
}

export interface RestRouteContract {
  /** `result` validates a JSON answer; `page` is the content type of anything else (the docs UI). */
  ok: RestCall & ({ result: TSchema } | { page: RegExp });
  /**
   * UNAUTHORIZED is answered to every guarded route when GROWOFF_HTTP_TOKEN is set and the bearer
   * token is missing or wrong; its call defaults to the success call.
   */
  errors: Partial<Record<ErrorCode, RestCall>>;
  /**
   * The route that takes this path and hands it on, when it is not a Fastify route of its own: the
   * docs UI's pages, served through `GET /docs/*` by the UI loaded at its first request.
   */
  via?: string;
}

/** The HTTP status a client may rely on for each error code (the REST contract). */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_JSON: 400,
  INVALID_MESSAGE: 400,
  UNKNOWN_SENSOR: 404,
  UNKNOWN_ACTUATOR: 404,
  NOT_FOUND: 404,
  UNAUTHORIZED: 401,
  INTERLOCK: 409,
  CONFLICT: 409,
  UNAVAILABLE: 503,
};

const json = (value: unknown): string => JSON.stringify(value);
const NOT_JSON = '{"sensor": ph';

const SensorView = Type.Intersect([
  SensorReading,
  Type.Object({ id: Type.String(), intervalMs: Type.Number() }),
]);
const ActuatorView = Type.Intersect([
  ActuatorState,
  Type.Object({ id: Type.String(), kind: Type.Union([Type.Literal('switch'), Type.Literal('dimmer')]) }),
]);
const IrrigationStatus = Type.Object(
  {
    running: Type.Boolean(),
    startedAt: Type.Optional(Type.Integer()),
    endsAt: Type.Optional(Type.Integer()),
    nextAt: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);
const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  moduleId: Type.String(),
  updateLock: UpdateLock,
});
const OpenApi = Type.Object({ openapi: Type.String(), paths: Type.Record(Type.String(), Type.Object({})) });
const Environment = Type.Record(Type.String(), Type.Number());
const Alarms = Type.Object({ alarms: Type.Array(Alarm) });
/** The alarm the `ph alarm active` situation raises; without it no alarm exists (NOT_FOUND). */
const PH_HIGH = { sensor: 'ph', limit: 'high' };
const NO_ALARM = PH_HIGH;

/** Errors any request method answers: a payload that is not JSON, or JSON that is not an object. */
const ANY_REQUEST = {
  BAD_JSON: { payload: NOT_JSON },
  INVALID_MESSAGE: { payload: '[1,2]' },
} satisfies Partial<Record<ErrorCode, MqttCall>>;

export const MQTT_METHODS: Record<string, MqttMethodContract> = {
  get_sensors: { ok: { payload: '{}', result: Type.Array(SensorView) }, errors: ANY_REQUEST },
  get_sensor: {
    ok: { payload: json({ sensor: 'ph' }), result: SensorView },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: '{}' },
      UNKNOWN_SENSOR: { payload: json({ sensor: 'soil_moisture' }) },
    },
  },
  get_actuators: { ok: { payload: '{}', result: Type.Array(ActuatorView) }, errors: ANY_REQUEST },
  get_actuator: {
    ok: { payload: json({ actuator: 'fan' }), result: ActuatorView },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: json({ actuator: 7 }) },
      UNKNOWN_ACTUATOR: { payload: json({ actuator: 'heater' }) },
    },
  },
  set_actuator: {
    ok: { payload: json({ actuator: 'fan', level: 30 }), result: ActuatorView },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: json({ actuator: 'fan', level: 500 }) },
      UNKNOWN_ACTUATOR: { payload: json({ actuator: 'heater', state: 'on' }) },
      INTERLOCK: { payload: json({ actuator: 'pump', state: 'on' }), given: ['water low'] },
      UNAVAILABLE: { payload: json({ actuator: 'pump', state: 'off' }), given: ['pump chip failing'] },
    },
  },
  get_config: { ok: { payload: '{}', result: ModuleConfig }, errors: ANY_REQUEST },
  set_config: {
    ok: { payload: json({ climate: { fanLevel: 40 } }), result: ModuleConfig },
    errors: { ...ANY_REQUEST, INVALID_MESSAGE: { payload: json({ climate: { fanOffBelowC: 99 } }) } },
  },
  get_update_lock: { ok: { payload: '{}', result: UpdateLock }, errors: ANY_REQUEST },
  get_events: {
    ok: { payload: json({ limit: 5 }), result: Type.Array(Event, { maxItems: 5 }) },
    errors: { ...ANY_REQUEST, INVALID_MESSAGE: { payload: json({ limit: 0 }) } },
  },
  start_irrigation: {
    ok: { payload: json({ runSeconds: 600 }), result: IrrigationStatus, leaves: 'irrigation running' },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: json({ runSeconds: 0 }) },
      CONFLICT: { payload: '{}', given: ['irrigation running'] },
      INTERLOCK: { payload: '{}', given: ['water low'] },
      UNAVAILABLE: { payload: '{}', given: ['pump chip failing'] },
    },
  },
  stop_irrigation: {
    ok: { payload: '{}', result: IrrigationStatus, given: ['irrigation running'] },
    errors: {
      ...ANY_REQUEST,
      UNAVAILABLE: { payload: '{}', given: ['irrigation running', 'pump chip failing'] },
    },
  },
  get_irrigation: { ok: { payload: '{}', result: IrrigationStatus }, errors: ANY_REQUEST },
  get_history: {
    ok: { payload: json({ sensor: 'ph' }), result: History },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: json({ sensor: 'ph', step: 1 }) },
      UNKNOWN_SENSOR: { payload: json({ sensor: 'soil_moisture' }) },
    },
  },
  get_calibration: {
    ok: { payload: json({ sensor: 'air_temperature' }), result: CalibrationStatus },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: '{}' },
      UNKNOWN_SENSOR: { payload: json({ sensor: 'soil_moisture' }) },
    },
  },
  calibrate: {
    ok: {
      payload: json({ sensor: 'air_temperature', action: 'offset', value: 0, scale: 1 }),
      result: CalibrationStatus,
    },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: json({ sensor: 'air_temperature', action: 'dry' }) },
      UNKNOWN_SENSOR: { payload: json({ sensor: 'soil_moisture', action: 'clear' }) },
    },
  },
  get_alarms: { ok: { payload: '{}', result: Alarms }, errors: ANY_REQUEST },
  ack_alarm: {
    ok: { payload: json(PH_HIGH), result: Alarm, given: ['ph alarm active'] },
    errors: {
      ...ANY_REQUEST,
      INVALID_MESSAGE: { payload: json({ sensor: 'ph' }) },
      NOT_FOUND: { payload: json(NO_ALARM) },
    },
  },
};

/** A method the core does not have, for UNKNOWN_METHOD. */
export const UNKNOWN_METHOD = 'self_destruct';

export const REST_ROUTES: Record<string, RestRouteContract> = {
  'GET /health': { ok: { result: Health }, errors: {} },
  'GET /docs': { ok: { page: /^text\/html/ }, errors: { UNAUTHORIZED: {} } },
  'GET /docs/': { ok: { page: /^text\/html/ }, errors: { UNAUTHORIZED: {} }, via: 'GET /docs/*' },
  'GET /docs/static/index.html': {
    ok: { page: /^text\/html/ },
    errors: { UNAUTHORIZED: {} },
    via: 'GET /docs/*',
  },
  'GET /docs/static/swagger-initializer.js': {
    ok: { page: /^application\/javascript/ },
    errors: { UNAUTHORIZED: {} },
    via: 'GET /docs/*',
  },
  'GET /docs/*': {
    ok: { path: '/docs/static/swagger-ui.css', page: /^text\/css/ },
    errors: { UNAUTHORIZED: {} },
  },
  'GET /docs/json': { ok: { result: OpenApi }, errors: { UNAUTHORIZED: {} }, via: 'GET /docs/*' },
  'GET /docs/yaml': { ok: { page: /yaml/ }, errors: { UNAUTHORIZED: {} }, via: 'GET /docs/*' },
  'GET /api/v1/sensors': { ok: { result: Type.Array(SensorView) }, errors: { UNAUTHORIZED: {} } },
  'GET /api/v1/sensors/{id}': {
    ok: { path: '/api/v1/sensors/ph', result: SensorView },
    errors: { UNAUTHORIZED: {}, UNKNOWN_SENSOR: { path: '/api/v1/sensors/soil_moisture' } },
  },
  'GET /api/v1/actuators': { ok: { result: Type.Array(ActuatorView) }, errors: { UNAUTHORIZED: {} } },
  'PUT /api/v1/actuators/{id}': {
    ok: { path: '/api/v1/actuators/fan', body: { level: 30 }, result: ActuatorView },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { path: '/api/v1/actuators/fan', body: '{"level": 3' },
      INVALID_MESSAGE: { path: '/api/v1/actuators/fan', body: { level: 500 } },
      UNKNOWN_ACTUATOR: { path: '/api/v1/actuators/heater', body: { state: 'on' } },
      INTERLOCK: { path: '/api/v1/actuators/pump', body: { state: 'on' }, given: ['water low'] },
      UNAVAILABLE: { path: '/api/v1/actuators/pump', body: { state: 'off' }, given: ['pump chip failing'] },
    },
  },
  'GET /api/v1/config': { ok: { result: ModuleConfig }, errors: { UNAUTHORIZED: {} } },
  'PUT /api/v1/config': {
    ok: { body: { climate: { fanLevel: 40 } }, result: ModuleConfig },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { body: '{"climate": ' },
      INVALID_MESSAGE: { body: { climate: { fanOffBelowC: 99 } } },
    },
  },
  'GET /api/v1/events': {
    ok: { path: '/api/v1/events?limit=5', result: Type.Array(Event, { maxItems: 5 }) },
    errors: { UNAUTHORIZED: {}, INVALID_MESSAGE: { path: '/api/v1/events?limit=0' } },
  },
  'GET /api/v1/update-lock': { ok: { result: UpdateLock }, errors: { UNAUTHORIZED: {} } },
  'GET /api/v1/irrigation': { ok: { result: IrrigationStatus }, errors: { UNAUTHORIZED: {} } },
  'POST /api/v1/irrigation/start': {
    ok: { body: { runSeconds: 600 }, result: IrrigationStatus, leaves: 'irrigation running' },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { body: '{"runSeconds": ' },
      INVALID_MESSAGE: { body: { runSeconds: 0 } },
      CONFLICT: { body: {}, given: ['irrigation running'] },
      INTERLOCK: { body: {}, given: ['water low'] },
      UNAVAILABLE: { body: {}, given: ['pump chip failing'] },
    },
  },
  'POST /api/v1/irrigation/stop': {
    ok: { result: IrrigationStatus, given: ['irrigation running'] },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { body: '{"now": ' },
      UNAVAILABLE: { given: ['irrigation running', 'pump chip failing'] },
    },
  },
  'GET /api/v1/sim/environment': { ok: { result: Environment }, errors: { UNAUTHORIZED: {} } },
  'PUT /api/v1/sim/environment': {
    ok: { body: { airTemperature: 24 }, result: Environment },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { body: '{"airTemperature": ' },
      INVALID_MESSAGE: { body: { rainfall: 3 } },
    },
  },
  'POST /api/v1/sim/faults': {
    ok: {
      body: { target: 'light_intensity', fault: 'stuck' },
      result: Type.Object({ injected: Type.Object({ target: Type.String(), fault: Type.String() }) }),
      leaves: 'light sensor stuck',
    },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { body: '{"target": ' },
      INVALID_MESSAGE: { body: { target: 'soil_moisture', fault: 'nack' } },
    },
  },
  'GET /api/v1/sim/faults': {
    ok: { result: Type.Object({ faults: Type.Array(Type.String(), { minItems: 1 }) }) },
    errors: { UNAUTHORIZED: {} },
  },
  'GET /api/v1/sim/outputs': { ok: { result: Environment }, errors: { UNAUTHORIZED: {} } },
  'GET /api/v1/sensors/{id}/history': {
    ok: { path: '/api/v1/sensors/ph/history', result: History },
    errors: {
      UNAUTHORIZED: {},
      INVALID_MESSAGE: { path: '/api/v1/sensors/ph/history?step=1' },
      UNKNOWN_SENSOR: { path: '/api/v1/sensors/soil_moisture/history' },
    },
  },
  'GET /api/v1/sensors/{id}/calibration': {
    ok: { path: '/api/v1/sensors/air_temperature/calibration', result: CalibrationStatus },
    errors: { UNAUTHORIZED: {}, UNKNOWN_SENSOR: { path: '/api/v1/sensors/soil_moisture/calibration' } },
  },
  'POST /api/v1/sensors/{id}/calibration': {
    ok: {
      path: '/api/v1/sensors/air_temperature/calibration',
      body: { action: 'offset', value: 0, scale: 1 },
      result: CalibrationStatus,
    },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { path: '/api/v1/sensors/air_temperature/calibration', body: '{"action": ' },
      INVALID_MESSAGE: { path: '/api/v1/sensors/air_temperature/calibration', body: { action: 'dry' } },
      UNKNOWN_SENSOR: { path: '/api/v1/sensors/soil_moisture/calibration', body: { action: 'clear' } },
    },
  },
  'GET /api/v1/alarms': { ok: { result: Alarms }, errors: { UNAUTHORIZED: {} } },
  'POST /api/v1/alarms/ack': {
    ok: { body: PH_HIGH, result: Alarm, given: ['ph alarm active'] },
    errors: {
      UNAUTHORIZED: {},
      BAD_JSON: { body: '{"sensor": ' },
      INVALID_MESSAGE: { body: { sensor: 'ph' } },
      NOT_FOUND: { body: NO_ALARM },
    },
  },
  'GET /api/v1/apps': { ok: { result: AppStatusList }, errors: { UNAUTHORIZED: {} } },
  'GET /api/v1/stream': { ok: { page: /^text\/event-stream/ }, errors: { UNAUTHORIZED: {} } },
  'GET /api/v1/session': { ok: { result: SessionState }, errors: {} },
  'POST /api/v1/session': {
    ok: { body: { token: 'any' }, result: Type.Object({ signedIn: Type.Literal(true) }) },
    errors: { BAD_JSON: { body: '{"token": ' }, INVALID_MESSAGE: { body: { password: 'x' } } },
  },
  'DELETE /api/v1/session': {
    ok: { result: Type.Object({ signedIn: Type.Literal(false) }) },
    errors: { UNAUTHORIZED: {} },
  },
  'GET /': { ok: { page: /^text\/html/ }, errors: {} },
  'GET /sign-in': { ok: { page: /^text\/html/ }, errors: {} },
  'GET /console/{file}': { ok: { path: '/console/app.js', page: /javascript/ }, errors: {} },
  'DELETE /api/v1/sim/faults': {
    ok: {
      path: '/api/v1/sim/faults?target=light_intensity',
      result: Type.Object({ cleared: Type.String() }),
      given: ['light sensor stuck'],
    },
    errors: { UNAUTHORIZED: {}, INVALID_MESSAGE: { path: '/api/v1/sim/faults?target=soil_moisture' } },
  },
};

/** Whether a route is a page, not an API: the Swagger UI plugin's own and the console's pages and assets. */
export function isDocsUiRoute(key: string): boolean {
  return (
    key === 'GET /docs' ||
    key.startsWith('GET /docs/') ||
    ['GET /', 'GET /sign-in', 'GET /console/{file}'].includes(key)
  );
}

/**
 * `METHOD /path` of every route in a `printRoutes({ commonPrefix: false })` tree, parameters
 * written as OpenAPI writes them (`{id}`). HEAD, which Fastify adds to every GET, is left out.
 */
export function routesOfTree(tree: string): string[] {
  const paths: string[] = [];
  return tree.split('\n').flatMap((line) => {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) return [];
    const depth = m[1]!.length / 4;
    const parent = depth === 0 ? '' : paths[depth - 1]!;
    // find-my-way prints `/docs/*` beside a route `/docs` as `/docs` with a child `*`.
    const path = parent + (m[2] === '*' && !parent.endsWith('/') ? '/*' : m[2]!);
    paths[depth] = path;
    const openApiPath = path.replace(/:(\w+)/g, '{$1}');
    return (m[3]?.split(', ') ?? []).filter((x) => x !== 'HEAD').map((x) => `${x} ${openApiPath}`);
  });
}

/** Requests no route takes, each answered 404 NOT_FOUND. */
export const UNROUTED: { method: string; path: string }[] = [
  { method: 'GET', path: '/api/v1/sensor' },
  { method: 'DELETE', path: '/api/v1/sensors' },
  { method: 'GET', path: '/docs/nothing-here' },
];

/** `METHOD /path/{param}` of a table key, split. */
export function routeOf(key: string): { method: string; path: string } {
  const [method, path] = key.split(' ') as [string, string];
  return { method, path };
}

/**
 * The default cabinet with its pump on a relay chip of its own (a second MCP23017): a fault on the
 * pump's chip then leaves the water level readable, so the pump's own failure (UNAVAILABLE) can be
 * told apart from the interlock that refuses the pump when the water level is unknown.
 */
export async function contractProfileFile(): Promise<string> {
  const profile = {
    ...DEFAULT_PROFILE,
    devices: [...DEFAULT_PROFILE.devices, { name: 'pump-relay', type: 'mcp23017', address: 0x21 }],
    actuators: DEFAULT_PROFILE.actuators.map((a) => (a.id === 'pump' ? { ...a, device: 'pump-relay' } : a)),
  };
  const file = join(await mkdtemp(join(tmpdir(), 'growoff-contract-')), 'profile.json');
  await writeFile(file, JSON.stringify(profile));
  return file;
}

/** Resolves with the current or next reading of `sensor` that satisfies `predicate` (no polling). */
export function readingWhere(
  core: RunningCore,
  sensor: string,
  predicate: (r: SensorSnapshot) => boolean,
  timeoutMs = 10_000,
): Promise<SensorSnapshot> {
  const current = core.store.reading(sensor);
  if (current && predicate(current)) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${sensor} reading within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = core.bus.on('reading', (r) => {
      if (r.id !== sensor || !predicate(r)) return;
      clearTimeout(timer);
      off();
      resolve(r);
    });
  });
}

async function expectOk(core: RunningCore, method: string, path: string, body?: unknown): Promise<void> {
  const answer = await rest(core, method, path, body);
  if (answer.status !== 200) {
    throw new Error(
      `${method} ${path} while arranging a case: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
}

/** Brings about a Given through the core's own QA API; resolves with its undo. */
export async function arrange(core: RunningCore, given: Given): Promise<() => Promise<void>> {
  switch (given) {
    case 'water low':
      await expectOk(core, 'PUT', '/api/v1/sim/environment', { waterLevel: 0 });
      await readingWhere(core, 'water_level', (r) => r.value === 0);
      break;
    case 'pump chip failing':
      await expectOk(core, 'POST', '/api/v1/sim/faults', { target: 'pump', fault: 'nack' });
      break;
    case 'irrigation running':
      await expectOk(core, 'POST', '/api/v1/irrigation/start', { runSeconds: 600 });
      break;
    case 'light sensor stuck':
      await expectOk(core, 'POST', '/api/v1/sim/faults', { target: 'light_intensity', fault: 'stuck' });
      break;
    case 'ph alarm active': {
      // A high limit every pH reading is above, with no delay: the next reading raises the alarm.
      const raised = new Promise<void>((resolve) => {
        const off = core.bus.on('alarms', (a) => {
          if (a.alarms.some((x) => x.sensor === 'ph' && x.limit === 'high')) {
            off();
            resolve();
          }
        });
      });
      await expectOk(core, 'PUT', '/api/v1/config', {
        alarms: { limits: { ph: { high: 0.5, hysteresis: 0.1, delayS: 0 } } },
      });
      await raised;
      break;
    }
  }
  return undoOf(core, given);
}

/** Undoes a Given; harmless when it is not in place (a call expected to leave it failed). */
function undoOf(core: RunningCore, given: Given): () => Promise<void> {
  switch (given) {
    case 'water low':
      return async () => {
        await expectOk(core, 'PUT', '/api/v1/sim/environment', { waterLevel: 0.8 });
        await readingWhere(core, 'water_level', (r) => r.value === 1 && r.quality === 'ok');
      };
    case 'pump chip failing':
      return async () => {
        await expectOk(core, 'DELETE', '/api/v1/sim/faults?target=pump');
        // The chip's next operation re-initialises it; this one proves it is back.
        await expectOk(core, 'PUT', '/api/v1/actuators/pump', { state: 'off' });
      };
    case 'irrigation running':
      return async () => {
        const stopped = await rest(core, 'POST', '/api/v1/irrigation/stop');
        if (stopped.status !== 200 || stopped.body.running !== false) {
          throw new Error(`irrigation did not stop: ${stopped.status} ${JSON.stringify(stopped.body)}`);
        }
      };
    case 'light sensor stuck':
      return () => expectOk(core, 'DELETE', '/api/v1/sim/faults?target=light_intensity');
    case 'ph alarm active':
      // Taking the limit out of the config takes its alarm with it.
      return () => expectOk(core, 'PUT', '/api/v1/config', { alarms: { limits: {} } });
  }
}

/**
 * Runs `call` (the request alone, no assertions) with its givens in place, then undoes them and
 * what the call leaves, in reverse order.
 */
export async function inSituation<T>(
  core: RunningCore,
  c: { given?: Given[]; leaves?: Given },
  call: () => Promise<T>,
): Promise<T> {
  const undos: (() => Promise<void>)[] = [];
  try {
    for (const g of c.given ?? []) undos.push(await arrange(core, g));
    if (c.leaves) undos.push(undoOf(core, c.leaves));
    return await call();
  } finally {
    for (const undo of undos.reverse()) await undo();
  }
}
