import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { getService } from '@growoff/test-services';
import { ErrorBody, validate } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { readingWhere, REST_ROUTES, routeOf, UNROUTED } from './contract-table';
import { startTestCore, UNLIMITED_EVENTS, uniqueModuleId } from './helpers';

const TOKEN = 'contract-token-7f3a';
const ErrorReply = Type.Object({ error: ErrorBody }, { additionalProperties: false });

/** Authorization headers that must all be refused. */
const REFUSED: { name: string; headers: Record<string, string> }[] = [
  { name: 'no token', headers: {} },
  { name: 'a wrong token', headers: { authorization: 'Bearer wrong' } },
  {
    name: 'a wrong token of the right length',
    headers: { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` },
  },
  { name: 'the token without its Bearer scheme', headers: { authorization: TOKEN } },
];

let core: RunningCore;

beforeAll(async () => {
  core = await startTestCore(
    {
      GROWOFF_MODULE_ID: uniqueModuleId('contract-token'),
      GROWOFF_MQTT_URL: getService('mosquitto').url,
      GROWOFF_HTTP_TOKEN: TOKEN,
    },
    UNLIMITED_EVENTS,
  );
  // The irrigation start served below needs a known, sufficient water level.
  await readingWhere(core, 'water_level', (r) => r.quality === 'ok' && r.value === 1);
});

afterAll(async () => {
  await core?.stop();
});

/** Status and parsed body (null for a page that is not JSON). */
async function request(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${core.httpUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A stream (the console's event stream) never ends: its status is the answer.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, body: null };
  }
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.startsWith('application/json') ?? false;
  return { status: res.status, body: isJson ? JSON.parse(text) : null };
}

it('guards every route but /health, the console pages and assets, and signing in', () => {
  const open = Object.entries(REST_ROUTES)
    .filter(([, c]) => c.errors.UNAUTHORIZED === undefined)
    .map(([key]) => key);
  expect(open.sort()).toEqual(
    [
      'GET /health',
      'GET /',
      'GET /sign-in',
      'GET /console/{file}',
      'GET /api/v1/session',
      'POST /api/v1/session',
    ].sort(),
  );
});

it('serves /health without a token', async () => {
  expect((await request('GET', '/health', {})).status).toBe(200);
});

describe.each(Object.entries(REST_ROUTES).filter(([, c]) => c.errors.UNAUTHORIZED !== undefined))(
  '%s',
  (key, contract) => {
    const route = routeOf(key);
    const call = { ...contract.ok, ...contract.errors.UNAUTHORIZED };
    const path = call.path ?? route.path;

    it.each(REFUSED)('answers 401 UNAUTHORIZED to $name, in the error contract', async ({ headers }) => {
      const answer = await request(route.method, path, headers, call.body);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
      const checked = validate(ErrorReply, answer.body);
      expect(checked.ok ? [] : checked.errors).toEqual([]);
    });

    it('serves the right bearer token', async () => {
      const answer = await request(route.method, path, { authorization: `Bearer ${TOKEN}` }, call.body);
      // Acknowledging needs an active alarm, which this core has none of: let through, then answered on its merits.
      if (call.given?.includes('ph alarm active'))
        expect(answer).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
      else expect(answer.status).toBe(200);
    });
  },
);

it.each(UNROUTED)(
  'answers $method $path 401 without a token and 404 NOT_FOUND with it',
  async ({ method, path }) => {
    expect((await request(method, path, {})).status).toBe(401);
    const found = await request(method, path, { authorization: `Bearer ${TOKEN}` });
    expect(found).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  },
);
