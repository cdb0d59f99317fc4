import { AppStatusBoard } from '../src/console/app-status';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type, type TSchema } from '@sinclair/typebox';
import { getService } from '@growoff/test-services';
import { ErrorBody, validate, type ErrorCode } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { createRestServer } from '../src/http/rest-server';
import {
  contractProfileFile,
  HTTP_STATUS,
  inSituation,
  readingWhere,
  REST_ROUTES,
  routeOf,
  isDocsUiRoute,
  routesOfTree,
  UNROUTED,
  type RestCall,
} from './contract-table';
import { rest, startTestCore, UNLIMITED_EVENTS, uniqueModuleId } from './helpers';

/** The REST error contract: `{"error": {"code", "message", "details"?}}` and nothing else. */
const ErrorReply = Type.Object({ error: ErrorBody }, { additionalProperties: false });

let core: RunningCore;

beforeAll(async () => {
  core = await startTestCore(
    {
      GROWOFF_MODULE_ID: uniqueModuleId('contract-rest'),
      GROWOFF_MQTT_URL: getService('mosquitto').url,
      GROWOFF_HAL_PROFILE: await contractProfileFile(),
    },
    UNLIMITED_EVENTS,
  );
  // Pump calls need a known, sufficient water level.
  await readingWhere(core, 'water_level', (r) => r.quality === 'ok' && r.value === 1);
});

afterAll(async () => {
  await core?.stop();
});

function expectValid(schema: TSchema, value: unknown): void {
  const checked = validate(schema, value);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
}

function send(key: string, call: RestCall): ReturnType<typeof rest> {
  const route = routeOf(key);
  return rest(core, route.method, call.path ?? route.path, call.body);
}

it('has a contract for every route Fastify serves, and for no other (pages handed on name their route)', async () => {
  // A second server made of the running core's own parts: the same routes, and Fastify's list of them.
  const twin = await createRestServer({
    host: '127.0.0.1',
    port: 0,
    version: 'contract',
    commands: core.commands,
    hal: core.hal,
    health: core.health,
    console: {
      bus: core.bus,
      store: core.store,
      apps: new AppStatusBoard(core.bus, () => ({ state: 'online' })),
    },
  });
  try {
    const served = routesOfTree(twin.printRoutes({ commonPrefix: false }));
    const routes = Object.entries(REST_ROUTES).filter(([, c]) => c.via === undefined);
    expect(routes.map(([key]) => key).sort()).toEqual(served.sort());
    // A page handed on is handed on by a route that is served.
    const handedOn = Object.values(REST_ROUTES).flatMap((c) => (c.via === undefined ? [] : [c.via]));
    expect(handedOn.filter((via) => !served.includes(via))).toEqual([]);
  } finally {
    await twin.close();
  }
});

it('documents every route in OpenAPI but the docs UI and the console pages', async () => {
  const spec = await rest(core, 'GET', '/docs/json');
  const documented = Object.entries(spec.body.paths as Record<string, object>).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const api = Object.keys(REST_ROUTES).filter((key) => !isDocsUiRoute(key));
  expect(documented.sort()).toEqual(api.sort());
});

describe.each(Object.entries(REST_ROUTES))('%s', (key, contract) => {
  it('answers 200 with its result', async () => {
    const { ok } = contract;
    if ('page' in ok) {
      const page = await fetch(`${core.httpUrl}${ok.path ?? routeOf(key).path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(ok.page);
      // A stream never ends: its first chunk is the answer.
      const reader = page.body!.getReader();
      const first = await reader.read();
      await reader.cancel();
      expect(first.value?.length ?? 0).toBeGreaterThan(0);
      return;
    }
    const answer = await inSituation(core, ok, () => send(key, ok));
    expect(answer.status).toBe(200);
    expectValid(ok.result, answer.body);
  });

  // UNAUTHORIZED needs GROWOFF_HTTP_TOKEN: contract-rest-token.test.ts runs those.
  for (const [code, call] of Object.entries(contract.errors)) {
    if (code === 'UNAUTHORIZED') continue;
    it(`answers ${code} with its status, in the error contract`, async () => {
      const answer = await inSituation(core, call, () => send(key, call));
      const given = {
        status: answer.status,
        code: (answer.body as { error?: { code?: string } }).error?.code,
      };
      expect(given).toEqual({ status: HTTP_STATUS[code as ErrorCode], code });
      expectValid(ErrorReply, answer.body);
    });
  }
});

it.each(UNROUTED)('answers $method $path, which no route takes, 404 NOT_FOUND', async ({ method, path }) => {
  const answer = await rest(core, method, path);
  expect(answer.status).toBe(404);
  expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  expectValid(ErrorReply, answer.body);
});
