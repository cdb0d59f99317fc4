import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { jsonOf, rest, startTestCore, TestClient, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

describe.each([
  { name: 'Mosquitto', external: true },
  { name: 'the embedded broker', external: false },
])('core over MQTT with $name', ({ external }) => {
  const moduleId = uniqueModuleId(external ? 'mqtt' : 'embedded');
  let core: RunningCore;
  let v311: TestClient;

  beforeAll(async () => {
    core = await startTestCore(
      external
        ? { GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: mosquitto.url }
        : { GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_EMBEDDED_PORT: '0' },
    );
    v311 = await TestClient.connect(core.mqttUrl, { protocolVersion: 4 });
    await v311.subscribe(`growoff/v1/modules/${moduleId}/#`);
  });

  afterAll(async () => {
    await v311?.close();
    await core?.stop();
  });

  it('publishes a retained online status with version and update lock', async () => {
    const m = await v311.waitFor((x) => x.topic === topics.status(moduleId, 'core'), 'core status');
    expect(m.packet.retain).toBe(true);
    expect(jsonOf(m)).toMatchObject({
      state: 'online',
      version: expect.any(String),
      updateLock: { held: false },
    });
  });

  it('publishes retained sensor readings and actuator states for every profile id', async () => {
    for (const id of ['air_temperature', 'water_level', 'ph']) {
      const m = await v311.waitFor((x) => x.topic === topics.sensor(moduleId, id), `sensor ${id}`);
      expect(jsonOf(m)).toMatchObject({
        unit: expect.any(String),
        quality: expect.any(String),
        ts: expect.any(Number),
      });
    }
    // A client that subscribes later gets the retained state straight away.
    const late = await TestClient.connect(core.mqttUrl, { protocolVersion: 4 });
    await late.subscribe(topics.actuator(moduleId, 'pump'), topics.sensor(moduleId, 'water_level'));
    const pump = await late.waitFor(
      (x) => x.topic === topics.actuator(moduleId, 'pump'),
      'retained pump state',
    );
    expect(pump.packet.retain).toBe(true);
    expect(jsonOf(pump)).toMatchObject({ state: expect.stringMatching(/on|off/), ts: expect.any(Number) });
    await late.waitFor(
      (x) => x.topic === topics.sensor(moduleId, 'water_level') && x.packet.retain,
      'retained water level',
    );
    await late.close();
  });

  it('applies a 3.1.1 request and answers on the res/ topic with the request id', async () => {
    const answer = v311.next(
      (x) => x.topic === topics.response(moduleId, 'core', 'set_actuator'),
      'res/set_actuator',
    );
    const state = v311.next(
      (x) => x.topic === topics.actuator(moduleId, 'fan') && (x.json() as { level?: number }).level === 37,
      'fan state 37',
    );
    v311.client.publish(
      topics.request(moduleId, 'core', 'set_actuator'),
      JSON.stringify({ id: 'r-311', actuator: 'fan', level: 37 }),
    );
    expect(jsonOf(await answer)).toMatchObject({ id: 'r-311', ok: true, result: { id: 'fan', level: 37 } });
    expect(jsonOf(await state)).toMatchObject({ level: 37 });
  });

  it('answers invalid messages with coded errors and a command.rejected event, changing nothing', async () => {
    const before = (await rest(core, 'GET', '/api/v1/actuators')).body;
    const cases: [string, string, string][] = [
      ['{not json', 'set_actuator', 'BAD_JSON'],
      ['[1,2]', 'set_actuator', 'INVALID_MESSAGE'],
      ['{"id":"x1","actuator":"fan","level":500}', 'set_actuator', 'INVALID_MESSAGE'],
      ['{"id":"x2","actuator":"heater","state":"on"}', 'set_actuator', 'UNKNOWN_ACTUATOR'],
      ['{"id":"x3"}', 'self_destruct', 'UNKNOWN_METHOD'],
    ];
    for (const [payload, method, code] of cases) {
      const answer = v311.next(
        (x) => x.topic === topics.response(moduleId, 'core', method),
        `answer to ${payload}`,
      );
      const event = v311.next(
        (x) =>
          x.topic === topics.events(moduleId) && (x.json() as { type: string }).type === 'command.rejected',
        `command.rejected for ${payload}`,
      );
      v311.client.publish(topics.request(moduleId, 'core', method), payload);
      expect(jsonOf(await answer)).toMatchObject({ ok: false, error: { code, message: expect.any(String) } });
      expect(jsonOf(await event)).toMatchObject({ severity: 'warning', data: { code } });
    }
    const badSet = v311.next(
      (x) =>
        x.topic === topics.events(moduleId) &&
        (x.json() as { data?: { target?: string } }).data?.target === 'set light',
      'rejection of a bad set',
    );
    v311.client.publish(topics.actuatorSet(moduleId, 'light'), '{"level":"bright"}');
    expect(jsonOf(await badSet)).toMatchObject({
      type: 'command.rejected',
      data: { code: 'INVALID_MESSAGE' },
    });
    expect((await rest(core, 'GET', '/api/v1/actuators')).body).toEqual(before);
  });

  it('shows the update lock in the retained status while an irrigation cycle runs', async () => {
    const statusTopic = topics.status(moduleId, 'core');
    const held = v311.next(
      (x) => x.topic === statusTopic && (x.json() as { updateLock: { held: boolean } }).updateLock.held,
      'status with the lock held',
    );
    const released = held.then(() =>
      v311.next(
        (x) => x.topic === statusTopic && !(x.json() as { updateLock: { held: boolean } }).updateLock.held,
        'status with the lock released',
      ),
    );
    v311.client.publish(
      topics.request(moduleId, 'core', 'start_irrigation'),
      JSON.stringify({ id: 'irr', runSeconds: 1 }),
    );
    expect(jsonOf(await held)).toMatchObject({
      state: 'online',
      updateLock: {
        held: true,
        reason: 'irrigation',
        since: expect.any(Number),
        maxAgeS: expect.any(Number),
      },
    });
    await released;
  });

  it('refuses the pump while the water level is low, over MQTT and REST, and says why', async () => {
    core.hal.simulation!.setEnvironment({ waterLevel: 0 });
    await v311.next(
      (x) =>
        x.topic === topics.sensor(moduleId, 'water_level') && (x.json() as { value: number }).value < 0.5,
      'low water reading',
    );
    const answer = v311.next(
      (x) => x.topic === topics.response(moduleId, 'core', 'set_actuator'),
      'pump refusal',
    );
    v311.client.publish(
      topics.request(moduleId, 'core', 'set_actuator'),
      JSON.stringify({ id: 'p1', actuator: 'pump', state: 'on' }),
    );
    const refusal = jsonOf(await answer) as {
      ok: boolean;
      error: { code: string; message: string; details: { reason: string } };
    };
    expect(refusal.ok).toBe(false);
    expect(refusal.error.code).toBe('INTERLOCK');
    expect(refusal.error.message).toMatch(/water level is low/);
    expect(refusal.error.details.reason).toBe('water_level_low');

    const viaRest = await rest(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' });
    expect(viaRest.status).toBe(409);
    expect(viaRest.body).toMatchObject({ error: { code: 'INTERLOCK' } });
    expect((await rest(core, 'GET', '/api/v1/actuators')).body).toContainEqual(
      expect.objectContaining({ id: 'pump', state: 'off' }),
    );
    core.hal.simulation!.setEnvironment({ waterLevel: 0.8 });
  });
});

describe('core over MQTT 5 with Mosquitto', () => {
  const moduleId = uniqueModuleId('mqtt5');
  let core: RunningCore;
  let v5: TestClient;

  beforeAll(async () => {
    core = await startTestCore({ GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: mosquitto.url });
    v5 = await TestClient.connect(core.mqttUrl, { protocolVersion: 5 });
    await v5.subscribe(`growoff/v1/modules/${moduleId}/#`);
  });

  afterAll(async () => {
    await v5?.close();
    await core?.stop();
  });

  it('applies an MQTT 5 set command and answers on the response topic with the correlation data', async () => {
    const client = v5;
    const responseTopic = `core-test/${moduleId}/replies`;
    await client.subscribe(responseTopic);
    const answer = client.next((x) => x.topic === responseTopic, 'MQTT 5 response');
    const state = client.next(
      (x) => x.topic === topics.actuator(moduleId, 'light') && (x.json() as { level?: number }).level === 42,
      'light state 42',
    );
    client.client.publish(topics.actuatorSet(moduleId, 'light'), JSON.stringify({ level: 42 }), {
      qos: 1,
      properties: { responseTopic, correlationData: Buffer.from('corr-42') },
    });
    const m = await answer;
    expect(m.packet.properties?.correlationData?.toString()).toBe('corr-42');
    expect(jsonOf(m)).toMatchObject({ ok: true, result: { id: 'light', level: 42 } });
    await state;

    const bad = client.next((x) => x.topic === responseTopic, 'MQTT 5 error response');
    client.client.publish(topics.actuatorSet(moduleId, 'light'), 'garbage', {
      qos: 1,
      properties: { responseTopic, correlationData: Buffer.from('corr-bad') },
    });
    const e = await bad;
    expect(e.packet.properties?.correlationData?.toString()).toBe('corr-bad');
    expect(jsonOf(e)).toMatchObject({ ok: false, error: { code: 'BAD_JSON' } });
  });
  it('answers a request whose method name is empty or has a space on its response topic, with a command.rejected event', async () => {
    const client = v5;
    const responseTopic = `core-test/${moduleId}/odd-names`;
    await client.subscribe(responseTopic);
    const prefix = topics.allRequests(moduleId, 'core').slice(0, -1);
    for (const name of ['', 'get sensors']) {
      const answer = client.next(
        (x) =>
          x.topic === responseTopic && x.packet.properties?.correlationData?.toString() === `odd-${name}`,
        `answer for "${name}"`,
      );
      const rejected = client.next(
        (x) =>
          x.topic === topics.events(moduleId) &&
          (x.json() as { type: string; data: { target: string } }).type === 'command.rejected' &&
          (x.json() as { data: { target: string } }).data.target === name,
        `command.rejected for "${name}"`,
      );
      client.client.publish(`${prefix}${name}`, JSON.stringify({ id: `odd-${name}` }), {
        qos: 1,
        properties: { responseTopic, correlationData: Buffer.from(`odd-${name}`) },
      });
      expect(jsonOf(await answer)).toMatchObject({
        id: `odd-${name}`,
        ok: false,
        error: { code: 'UNKNOWN_METHOD' },
      });
      expect(jsonOf(await rejected)).toMatchObject({ data: { code: 'UNKNOWN_METHOD' } });
    }
  });

  it('refuses a retained set command with INVALID_MESSAGE and a command.rejected event', async () => {
    const client = v5;
    const responseTopic = `core-test/${moduleId}/retained`;
    await client.subscribe(responseTopic);
    const answer = client.next((x) => x.topic === responseTopic, 'answer to the retained set');
    const rejected = client.next(
      (x) =>
        x.topic === topics.events(moduleId) &&
        (x.json() as { type: string }).type === 'command.rejected' &&
        (x.json() as { data: { target: string } }).data.target === 'set fan',
      'command.rejected for the retained set',
    );
    await client.client.publishAsync(topics.actuatorSet(moduleId, 'fan'), JSON.stringify({ state: 'on' }), {
      qos: 1,
      retain: true,
      properties: { responseTopic, correlationData: Buffer.from('retained') },
    });
    try {
      expect(jsonOf(await answer)).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
      expect(jsonOf(await rejected)).toMatchObject({ data: { code: 'INVALID_MESSAGE', source: 'mqtt' } });
    } finally {
      await client.client.publishAsync(topics.actuatorSet(moduleId, 'fan'), '', { qos: 1, retain: true });
    }
  });
});
