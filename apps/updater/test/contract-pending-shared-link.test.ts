import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { ErrorResponse, topics, validate } from '@growoff/protocol';
import { getService } from '@growoff/test-services';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';

/*
 * A contract case the updater fails until the shared app link (issue 12) serves its requests:
 * today it does not subscribe to `updater/req/+` at all, so a request goes unanswered although it
 * names a response topic. The contract: every `{app}/req/{method}` with a reply path is answered,
 * with a coded error when the app has no such method.
 */

let h: UpdaterHarness;
let client: MqttClient;

beforeAll(async () => {
  h = await UpdaterHarness.create();
  await h.startUpdater();
  client = await mqtt.connectAsync(getService('mosquitto').url, { protocolVersion: 5 });
  // The updater publishes its status once subscribed; a request sent before would find no one.
  const online = new Promise<void>((resolve) => {
    client.on('message', (topic, payload) => {
      if (topic !== topics.status(h.moduleId, 'updater') || payload.length === 0) return;
      if ((JSON.parse(payload.toString()) as { state?: string }).state === 'online') resolve();
    });
  });
  await client.subscribeAsync(topics.status(h.moduleId, 'updater'), { qos: 1 });
  await online;
});

afterAll(async () => {
  await client?.endAsync();
  await h?.cleanup();
});

it('answers an MQTT 5 request for a method it does not have with UNKNOWN_METHOD', async () => {
  const replyTopic = `updater-test/${h.moduleId}/contract-replies`;
  const correlation = randomBytes(8).toString('hex');
  await client.subscribeAsync(replyTopic, { qos: 1 });
  const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to updater/req/self_destruct')), 5000);
    client.on('message', (topic, payload, packet) => {
      if (topic !== replyTopic || packet.properties?.correlationData?.toString() !== correlation) return;
      clearTimeout(timer);
      resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
    });
  });
  await client.publishAsync(topics.request(h.moduleId, 'updater', 'self_destruct'), '{"id":"u1"}', {
    qos: 1,
    properties: { responseTopic: replyTopic, correlationData: Buffer.from(correlation) },
  });
  const body = await answer;
  expect(body).toMatchObject({ id: 'u1', ok: false, error: { code: 'UNKNOWN_METHOD' } });
  const checked = validate(ErrorResponse, body);
  expect(checked.ok ? [] : checked.errors).toEqual([]);
});
