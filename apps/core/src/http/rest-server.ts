import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { HalError, SIM_FAULTS, type Hal } from '@growoff/hal';
import {
  ActuatorCommand,
  codedError,
  Event,
  ProtocolError,
  restErrorOf,
  restErrorReply,
  SensorQuality,
  UpdateLock,
} from '@growoff/protocol';
import type { CommandService } from '../commands';
import { ModuleConfig, ModuleConfigPatch } from '../config/module-config';
import { registerDataRoutes } from './data-routes';
import { registerDocsUi } from './docs-ui';
import { registerConsole, type ConsoleOptions } from '../console/console-routes';
import { lazySchemaCompilers } from './lazy-schema-compilers';

export interface RestOptions {
  host: string;
  port: number;
  token?: string;
  version: string;
  commands: CommandService;
  hal: Hal;
  health: () => Record<string, unknown> & { status: 'ok' | 'degraded' };
  /** The QA console at `/` and the session auth of every route (Bearer token or session cookie). */
  console: Omit<ConsoleOptions, 'token' | 'hal'>;
}

const ErrorReply = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorReply' },
);
const Sensor = Type.Object(
  {
    id: Type.String(),
    value: Type.Union([Type.Number(), Type.Null()]),
    unit: Type.String(),
    quality: SensorQuality,
    ts: Type.Integer(),
    intervalMs: Type.Number(),
    error: Type.Optional(Type.String()),
    compensation: Type.Optional(
      Type.Object({
        celsius: Type.Number(),
        source: Type.Union([Type.Literal('measured'), Type.Literal('default'), Type.Literal('previous')]),
      }),
    ),
  },
  { additionalProperties: false },
);
const Actuator = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal('switch'), Type.Literal('dimmer')]),
    state: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off'), Type.Literal('unknown')])),
    level: Type.Optional(Type.Number()),
    ts: Type.Integer(),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String() });
/** Fastify's own content type for a serialised reply. */
const JSON_TYPE = 'application/json; charset=utf-8';
const errors = { 400: ErrorReply, 401: ErrorReply, 404: ErrorReply, 409: ErrorReply, 503: ErrorReply };

/**
 * The QA REST API. Every handler calls the same CommandService the MQTT side calls; errors
 * leave as `{error: {code, message, details?}}` with a 4xx/5xx status, never as a stack.
 */
export async function createRestServer(o: RestOptions): Promise<FastifyInstance> {
  const app = await buildRestServer(o);
  await listenRestServer(app, o);
  return app;
}

/** Starts serving a server `buildRestServer` made; closes it when it cannot listen. */
export async function listenRestServer(app: FastifyInstance, o: Pick<RestOptions, 'host' | 'port'>) {
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await app.close();
    throw e;
  }
}

/**
 * The REST server with every route, ready but not yet listening: the core builds it while its
 * features start (the HAL waits for its chips meanwhile) and listens once they have.
 * Fastify and the OpenAPI plugins are loaded here, not with the core, for the same reason.
 */
export async function buildRestServer(o: RestOptions): Promise<FastifyInstance> {
  const [{ default: Fastify }, { default: swagger }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
  ]);
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    schemaController: { compilersFactory: lazySchemaCompilers() },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const { commands } = o;
  // Results are shaped by the command path; the route's response schema documents and serialises them.
  const run = (method: string, params: unknown) => commands.execute(method, params, 'rest') as Promise<never>;

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'GrowOff core',
        version: o.version,
        description: 'QA API of the module core (protocol v1)',
      },
      ...(o.token === undefined
        ? {}
        : {
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
            security: [{ bearer: [] }],
          }),
    },
  });

  await registerConsole(app, { ...o.console, token: o.token, hal: o.hal });

  const onError = (error: Error, req: FastifyRequest, reply: FastifyReply) => {
    // A coded HAL refusal (e.g. an unknown fault target) is the caller's mistake, said in the HAL's words.
    const e =
      error instanceof HalError
        ? codedError('INVALID_MESSAGE', error.message, { halCode: error.code })
        : restErrorOf(error);
    // Refusals the command path never saw (schema, JSON, auth) are still recorded as rejected commands.
    if (!(error instanceof ProtocolError && error.code !== 'UNAUTHORIZED') && req.method !== 'GET') {
      commands.rejected('rest', `${req.method} ${req.routeOptions.url ?? req.url}`, e);
    }
    const { status, body } = restErrorReply(e);
    void reply.status(status).send(body);
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = restErrorReply(codedError('NOT_FOUND', `no route ${req.method} ${req.url}`));
    void reply.status(status).send(body);
  };
  app.setErrorHandler(onError);
  app.setNotFoundHandler(notFound);

  registerDocsUi(app, { onError, notFound });

  app.get('/health', { schema: { tags: ['health'] } }, () => o.health());

  // The list changes only with a new reading (each sensor every few seconds): between two, every request
  // gets the same bytes, made once by the command path and the route's serializer.
  let sensorsBody: { version: number; json: string } | undefined;
  // Untyped: the reply is the serialised JSON, not the list the schema types.
  (app as unknown as FastifyInstance).get(
    '/api/v1/sensors',
    { schema: { tags: ['sensors'], response: { 200: Type.Array(Sensor) } } },
    (_req, reply) => {
      // Taken before the list is made: a reading landing meanwhile leaves this body marked as older.
      const version = commands.sensorsVersion();
      if (sensorsBody?.version === version) return reply.type(JSON_TYPE).send(sensorsBody.json);
      return run('get_sensors', {}).then((list) => {
        const json = reply.serialize(list) as string;
        sensorsBody = { version, json };
        return reply.type(JSON_TYPE).send(json);
      });
    },
  );
  app.get(
    '/api/v1/sensors/:id',
    { schema: { tags: ['sensors'], params: IdParams, response: { 200: Sensor, ...errors } } },
    (req) => run('get_sensor', { sensor: req.params.id }),
  );
  app.get(
    '/api/v1/actuators',
    { schema: { tags: ['actuators'], response: { 200: Type.Array(Actuator) } } },
    () => run('get_actuators', {}),
  );
  app.put(
    '/api/v1/actuators/:id',
    {
      schema: {
        tags: ['actuators'],
        description:
          'Switch `{"state":"on"|"off"}` or dim `{"level":0..100}`. Interlocks apply (409 INTERLOCK).',
        params: IdParams,
        body: ActuatorCommand,
        response: { 200: Actuator, ...errors },
      },
    },
    (req) => {
      const { id: _id, ...cmd } = req.body;
      return run('set_actuator', { ...cmd, actuator: req.params.id });
    },
  );
  app.get('/api/v1/config', { schema: { tags: ['config'], response: { 200: ModuleConfig } } }, () =>
    run('get_config', {}),
  );
  app.put(
    '/api/v1/config',
    {
      schema: {
        tags: ['config'],
        description:
          'Any subset of the sections, each partial; the result is validated as a whole and persisted.',
        body: ModuleConfigPatch,
        response: { 200: ModuleConfig, ...errors },
      },
    },
    (req) => run('set_config', req.body),
  );
  app.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['events'],
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }),
        response: { 200: Type.Array(Event) },
      },
    },
    (req) => run('get_events', req.query.limit === undefined ? {} : { limit: req.query.limit }),
  );
  app.get('/api/v1/update-lock', { schema: { tags: ['update'], response: { 200: UpdateLock } } }, () =>
    run('get_update_lock', {}),
  );
  app.get('/api/v1/irrigation', { schema: { tags: ['irrigation'] } }, () => run('get_irrigation', {}));
  app.post(
    '/api/v1/irrigation/start',
    {
      schema: {
        tags: ['irrigation'],
        body: Type.Optional(
          Type.Object({ runSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })) }),
        ),
        response: errors,
      },
    },
    (req) => run('start_irrigation', req.body ?? {}),
  );
  app.post('/api/v1/irrigation/stop', { schema: { tags: ['irrigation'] } }, () => run('stop_irrigation', {}));
  registerDataRoutes(app, run, errors);

  const sim = o.hal.simulation;
  if (sim) {
    const Environment = Type.Record(Type.String(), Type.Number());
    app.get(
      '/api/v1/sim/environment',
      { schema: { tags: ['simulation'], response: { 200: Environment } } },
      () => sim.environment(),
    );
    app.put(
      '/api/v1/sim/environment',
      {
        schema: {
          tags: ['simulation'],
          description: 'Patch the simulated environment, e.g. `{"airTemperature": 31, "waterLevel": 0}`.',
          body: Environment,
          response: { 200: Environment, ...errors },
        },
      },
      (req) => {
        const known = Object.keys(sim.environment());
        const unknown = Object.keys(req.body).filter((k) => !known.includes(k));
        if (unknown.length > 0) {
          throw new ProtocolError('INVALID_MESSAGE', `unknown simulated quantities: ${unknown.join(', ')}`, {
            known,
          });
        }
        sim.setEnvironment(req.body);
        return sim.environment();
      },
    );
    const Fault = Type.Union(SIM_FAULTS.map((f) => Type.Literal(f)));
    app.get(
      '/api/v1/sim/outputs',
      {
        schema: {
          tags: ['simulation'],
          description: 'Each actuator as the simulated chip drives it (0..1), whatever the core believes.',
          response: { 200: Type.Record(Type.String(), Type.Number()) },
        },
      },
      () => sim.outputs(),
    );
    app.post(
      '/api/v1/sim/faults',
      {
        schema: {
          tags: ['simulation'],
          body: Type.Object(
            { target: Type.String({ minLength: 1 }), fault: Fault },
            { additionalProperties: false },
          ),
        },
      },
      (req) => {
        sim.injectFault(req.body.target, req.body.fault);
        return { injected: req.body };
      },
    );
    app.delete(
      '/api/v1/sim/faults',
      {
        schema: { tags: ['simulation'], querystring: Type.Object({ target: Type.Optional(Type.String()) }) },
      },
      (req) => {
        sim.clearFaults(req.query.target);
        return { cleared: req.query.target ?? 'all' };
      },
    );
  }

  await app.ready();
  return app;
}
