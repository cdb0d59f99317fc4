import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { ErrorResponse, modulePrefix, topics, validate } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { jsonOf, startTestCore, TestClient, uniqueModuleId } from './helpers';

/*
 * Contract cases the core fails until the shared app link (issue 12) replaces its own MQTT link:
 * today it drops, unanswered, a request whose method is not a valid topic level, although the
 * request names a response topic. The contract: every request with a reply path is answered,
 * with a coded error, whatever its method name.
 */

const moduleId = uniqueModuleId('contract-names');
const replyTopic = `core-test/${moduleId}/contract-replies`;
let core: RunningCore;
let v5: TestClient;

beforeAll(async () => {
  core = await startTestCore({ GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: getService('mosquitto').url });
  v5 = await TestClient.connect(core.mqttUrl, { protocolVersion: 5 });
  await v5.subscribe(replyTopic, topics.status(moduleId, 'core'));
  // The core publishes its status once subscribed to its requests.
  await v5.waitFor(
    (m) => m.topic === topics.status(moduleId, 'core') && (m.json() as { state?: string }).state === 'online',
    'core online',
  );
});

afterAll(async () => {
  await v5?.close();
  await core?.stop();
});

it.each([
  { name: 'an empty method', method: '' },
  { name: 'a method with a space', method: 'get sensors' },
  { name: 'a method longer than a topic level may be', method: 'm'.repeat(65) },
  { name: 'a method outside A-Z a-z 0-9 _ . -', method: 'get_sensörs' },
])('answers an MQTT 5 request for $name with a coded error and its correlation data', async ({ method }) => {
  const correlation = randomBytes(8).toString('hex');
  const answer = v5.next(
    (m) => m.topic === replyTopic && m.packet.properties?.correlationData?.toString() === correlation,
    `answer to core/req/${method}`,
    5000,
  );
  // Built by hand: topics.request() refuses such a method name, as it should for a sender.
  await v5.client.publishAsync(`${modulePrefix(moduleId)}core/req/${method}`, '{"id":"n1"}', {
    qos: 1,
    properties: { responseTopic: replyTopic, correlationData: Buffer.from(correlation) },
  });
  const body = jsonOf(await answer);
  expect(body).toMatchObject({
    id: 'n1',
    ok: false,
    error: { code: expect.stringMatching(/^(UNKNOWN_METHOD|INVALID_MESSAGE)$/) },
  });
  const checked = validate(ErrorResponse, body);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
});
