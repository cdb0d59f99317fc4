import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TSchema } from '@sinclair/typebox';
import { getService } from '@growoff/test-services';
import { ErrorResponse, OkResponse, modulePrefix, topics, validate } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import {
  contractProfileFile,
  inSituation,
  MQTT_METHODS,
  readingWhere,
  UNKNOWN_METHOD,
} from './contract-table';
import { jsonOf, startTestCore, UNLIMITED_EVENTS, TestClient, uniqueModuleId } from './helpers';

const moduleId = uniqueModuleId('contract-mqtt');
const replyTopic = `core-test/${moduleId}/contract-replies`;
let core: RunningCore;
let v5: TestClient;
let v311: TestClient;

beforeAll(async () => {
  core = await startTestCore(
    {
      GROWOFF_MODULE_ID: moduleId,
      GROWOFF_MQTT_URL: getService('mosquitto').url,
      GROWOFF_HAL_PROFILE: await contractProfileFile(),
    },
    UNLIMITED_EVENTS,
  );
  v5 = await TestClient.connect(core.mqttUrl, { protocolVersion: 5 });
  v311 = await TestClient.connect(core.mqttUrl, { protocolVersion: 4 });
  await v5.subscribe(
    replyTopic,
    topics.events(moduleId),
    `${modulePrefix(moduleId)}core/res/+`,
    topics.status(moduleId, 'core'),
  );
  // The core publishes its status once subscribed to its requests.
  await v5.waitFor(
    (m) => m.topic === topics.status(moduleId, 'core') && (m.json() as { state?: string }).state === 'online',
    'core online',
  );
  await v311.subscribe(`${modulePrefix(moduleId)}core/res/+`);
  // Pump calls need a known, sufficient water level.
  await readingWhere(core, 'water_level', (r) => r.quality === 'ok' && r.value === 1);
});

afterAll(async () => {
  await v5?.close();
  await v311?.close();
  await core?.stop();
});

function expectValid(schema: TSchema, value: unknown): void {
  const checked = validate(schema, value);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
}

/** The payload with a request id added when it is a JSON object (the answer must echo it). */
function withId(payload: string, id: string): { payload: string; id?: string } {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return { payload: JSON.stringify({ ...value, id }), id };
    }
  } catch {
    // Not JSON: sent as is, answered without an id.
  }
  return { payload };
}

interface Transport {
  name: string;
  /** Publishes a request and resolves with its answer's body. */
  ask(method: string, payload: string): Promise<Record<string, unknown>>;
}

const TRANSPORTS: Transport[] = [
  {
    name: 'MQTT 5 with a response topic and correlation data',
    async ask(method, payload) {
      const correlation = randomBytes(8).toString('hex');
      const answer = v5.next(
        (m) => m.topic === replyTopic && m.packet.properties?.correlationData?.toString() === correlation,
        `answer to ${method} on the response topic`,
      );
      await v5.client.publishAsync(topics.request(moduleId, 'core', method), payload, {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData: Buffer.from(correlation) },
      });
      return jsonOf(await answer);
    },
  },
  {
    name: 'MQTT 3.1.1 on the res/ topic',
    async ask(method, payload) {
      const answer = v311.next(
        (m) => m.topic === topics.response(moduleId, 'core', method),
        `answer to ${method} on res/${method}`,
      );
      await v311.client.publishAsync(topics.request(moduleId, 'core', method), payload, { qos: 1 });
      return jsonOf(await answer);
    },
  },
];

/** Asks, and awaits the `command.rejected` event the refusal must raise. */
async function askRefused(
  t: Transport,
  method: string,
  payload: string,
  code: string,
): Promise<Record<string, unknown>> {
  const rejected = v5.next(
    (m) =>
      m.topic === topics.events(moduleId) &&
      (m.json() as { type: string }).type === 'command.rejected' &&
      (m.json() as { data?: { code?: string; target?: string } }).data?.code === code &&
      (m.json() as { data?: { target?: string } }).data?.target === method,
    `command.rejected ${code} for ${method}`,
  );
  const answer = await t.ask(method, payload);
  await rejected;
  return answer;
}

it('has a contract for every request method the core registers, and for no other', () => {
  expect(Object.keys(MQTT_METHODS).sort()).toEqual(core.commands.methodNames().sort());
});

describe.each(TRANSPORTS)('core/req/{method} over $name', (t) => {
  for (const [method, contract] of Object.entries(MQTT_METHODS)) {
    it(`${method} answers ok with its result`, async () => {
      const sent = withId(contract.ok.payload, `ok-${method}`);
      const answer = await inSituation(core, contract.ok, () => t.ask(method, sent.payload));
      expect(answer).toMatchObject({ ok: true, id: sent.id });
      expectValid(OkResponse, answer);
      expectValid(contract.ok.result, answer.result);
    });

    for (const [code, call] of Object.entries(contract.errors)) {
      it(`${method} answers ${code} and raises command.rejected`, async () => {
        const sent = withId(call.payload, `${code}-${method}`);
        const answer = await inSituation(core, call, () => askRefused(t, method, sent.payload, code));
        expect(answer).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
        expect(answer.id).toBe(sent.id);
        expectValid(ErrorResponse, answer);
      });
    }
  }

  it('answers a method the core does not have with UNKNOWN_METHOD', async () => {
    const answer = await askRefused(t, UNKNOWN_METHOD, '{"id":"u1"}', 'UNKNOWN_METHOD');
    expect(answer).toMatchObject({ id: 'u1', ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expectValid(ErrorResponse, answer);
  });
});

it('answers an MQTT 5 request without a response topic on the res/ topic', async () => {
  const answer = v5.next((m) => m.topic === topics.response(moduleId, 'core', 'get_irrigation'), 'res/');
  await v5.client.publishAsync(topics.request(moduleId, 'core', 'get_irrigation'), '{"id":"r5"}', { qos: 1 });
  expect(jsonOf(await answer)).toMatchObject({ id: 'r5', ok: true, result: { running: false } });
});
