import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorBody, StatusMessage, validate, type ErrorCode } from '@growoff/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiRoutes, startHttpApi } from '../src/reporting/http-api';
import type { JsonServer } from '../src/reporting/json-server';
import type { Updater } from '../src/updater';
import { UpdaterHarness } from './support/harness';

/*
 * The updater's request contract, ONE list: each route of its local HTTP API with a call that
 * succeeds and, per error code it can answer, a call that draws that code. The updater takes no
 * MQTT requests (it subscribes to releases and the core's status only).
 */

interface Call {
  body?: string;
  contentType?: string;
}

interface RouteContract {
  ok: Call & { status: number; result: TSchema };
  errors: Partial<Record<ErrorCode, Call>>;
}

const ROUTES: Record<string, RouteContract> = {
  'GET /health': {
    ok: { status: 200, result: Type.Object({ status: Type.Literal('ok'), phase: Type.String() }) },
    errors: {},
  },
  'GET /status': { ok: { status: 200, result: StatusMessage }, errors: {} },
  'GET /history': {
    ok: { status: 200, result: Type.Object({ entries: Type.Array(Type.Object({})) }) },
    errors: {},
  },
  'POST /check': {
    ok: { status: 202, result: Type.Object({ accepted: Type.Literal(true) }) },
    errors: {
      BAD_JSON: { body: '{"now": ', contentType: 'application/json' },
      INVALID_MESSAGE: { body: '<check/>', contentType: 'application/xml' },
    },
  },
};

/** The HTTP status a client may rely on for each error code (the REST contract). */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_JSON: 400,
  INVALID_MESSAGE: 400,
  NOT_FOUND: 404,
};

const ErrorReply = Type.Object({ error: ErrorBody }, { additionalProperties: false });

let h: UpdaterHarness;
let updater: Updater;
let api: JsonServer;

beforeAll(async () => {
  h = await UpdaterHarness.create();
  updater = await h.startUpdater();
  api = await startHttpApi(updater, h.httpPort);
});

afterAll(async () => {
  await api?.close();
  await h?.cleanup();
});

function expectValid(schema: TSchema, value: unknown): void {
  const checked = validate(schema, value);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
}

async function send(key: string, call: Call): Promise<{ status: number; body: unknown }> {
  const [method, path] = key.split(' ') as [string, string];
  const res = await fetch(`http://127.0.0.1:${h.httpPort}${path}`, {
    method,
    headers: call.contentType === undefined ? {} : { 'content-type': call.contentType },
    body: call.body,
  });
  return { status: res.status, body: JSON.parse(await res.text()) };
}

it('has a contract for every route the HTTP API has, and for no other', () => {
  // The server answers from this table alone (json-server.ts); a GET route answers HEAD too.
  expect(Object.keys(ROUTES).sort()).toEqual(Object.keys(httpApiRoutes(updater)).sort());
});

describe.each(Object.entries(ROUTES))('%s', (key, contract) => {
  it(`answers ${contract.ok.status} with its result`, async () => {
    const answer = await send(key, contract.ok);
    expect(answer.status).toBe(contract.ok.status);
    expectValid(contract.ok.result, answer.body);
  });

  for (const [code, call] of Object.entries(contract.errors)) {
    it(`answers ${code} with its status, in the error contract`, async () => {
      const answer = await send(key, call);
      const given = {
        status: answer.status,
        code: (answer.body as { error?: { code?: string } }).error?.code,
      };
      expect(given).toEqual({ status: HTTP_STATUS[code as ErrorCode], code });
      expectValid(ErrorReply, answer.body);
    });
  }
});

it.each(['GET /nothing-here', 'DELETE /status'])(
  'answers %s, which no route takes, 404 NOT_FOUND in the error contract',
  async (key) => {
    const answer = await send(key, {});
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expectValid(ErrorReply, answer.body);
  },
);
