import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@growoff/hal';
import { getService } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { rest, startTestCore, TestClient, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

// Seeded so a failure can be replayed.
const SEED = 20261127;
const rand = seededRandom(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const METHODS = [
  'set_actuator',
  'get_sensor',
  'get_actuator',
  'set_config',
  'get_config',
  'get_events',
  'start_irrigation',
  'stop_irrigation',
  'nope',
  'get_sensors',
];
const ACTUATORS = ['light', 'fan', 'pump', 'heater', 'x'];

function randomValue(depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.15)
    return pick([null, true, false, 0, -1, 1e308, 42.5, 'on', 'off', '', 'ü', '\u0000']);
  if (r < 0.3) return Math.floor(rand() * 400) - 100;
  if (r < 0.45) return 'x'.repeat(Math.floor(rand() * 50));
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(depth + 1));
  const keys = [
    'id',
    'state',
    'level',
    'actuator',
    'sensor',
    'light',
    'climate',
    'limit',
    'runSeconds',
    '__proto__',
    'constructor',
  ];
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 4); i > 0; i--) o[pick(keys)] = randomValue(depth + 1);
  return o;
}

/** Random bytes, truncated JSON, wrong shapes and near-valid commands. */
function randomPayload(): Buffer {
  const r = rand();
  if (r < 0.2)
    return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  const valid = JSON.stringify({
    actuator: pick(ACTUATORS),
    ...(rand() < 0.5 ? { state: pick(['on', 'off', 'maybe']) } : { level: Math.floor(rand() * 140) - 20 }),
  });
  if (r < 0.35) return Buffer.from(valid.slice(0, Math.floor(rand() * valid.length)));
  if (r < 0.6) return Buffer.from(valid);
  return Buffer.from(JSON.stringify(randomValue()));
}

describe('fuzzing the MQTT and REST inputs', () => {
  const moduleId = uniqueModuleId('fuzz');
  let core: RunningCore;
  let v5: TestClient;
  let v311: TestClient;

  beforeAll(async () => {
    core = await startTestCore(
      { GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: mosquitto.url },
      { sampleIntervalMs: 1000 },
    );
    v5 = await TestClient.connect(mosquitto.url, { protocolVersion: 5 });
    v311 = await TestClient.connect(mosquitto.url, { protocolVersion: 4 });
  });

  afterAll(async () => {
    await v5?.close();
    await v311?.close();
    await core?.stop();
  });

  it(`answers every one of 2000 random MQTT 5 messages with a response topic (seed ${SEED})`, async () => {
    const replyTopic = `core-fuzz/${moduleId}/replies`;
    await v5.subscribe(replyTopic);
    const N = 2000;
    const answered = new Set<string>();
    const all = new Promise<void>((resolve) => {
      v5.client.on('message', (topic, payload, packet) => {
        if (topic !== replyTopic) return;
        const body = JSON.parse(payload.toString()) as { ok: boolean; error?: { code: string } };
        expect(typeof body.ok).toBe('boolean');
        if (!body.ok) expect(body.error?.code).toMatch(/^[A-Z_]+$/);
        answered.add(packet.properties?.correlationData?.toString() ?? '');
        if (answered.size === N) resolve();
      });
    });
    for (let i = 0; i < N; i++) {
      const topic =
        rand() < 0.5
          ? topics.actuatorSet(moduleId, pick(ACTUATORS))
          : topics.request(moduleId, 'core', pick(METHODS));
      v5.client.publish(topic, randomPayload(), {
        qos: 1,
        properties: { responseTopic: replyTopic, correlationData: Buffer.from(`c${i}`) },
      });
    }
    await Promise.race([
      all,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${answered.size}/${N} answered`)), 20_000),
      ),
    ]);
    expect(answered.size).toBe(N);
  });

  it('answers every one of 1000 random 3.1.1 requests on the res/ topics', async () => {
    await v311.subscribe(`growoff/v1/modules/${moduleId}/core/res/+`);
    const N = 1000;
    let count = 0;
    const all = new Promise<void>((resolve) => {
      v311.client.on('message', (topic) => {
        if (topic.includes('/core/res/') && ++count === N) resolve();
      });
    });
    for (let i = 0; i < N; i++)
      v311.client.publish(topics.request(moduleId, 'core', pick(METHODS)), randomPayload(), { qos: 1 });
    await Promise.race([
      all,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${count}/${N} answered`)), 20_000)),
    ]);
    expect(count).toBe(N);
  });

  it('answers 1000 random REST bodies with JSON and a non-5xx status, and stays healthy', async () => {
    const routes: [string, string][] = [
      ['PUT', '/api/v1/actuators/fan'],
      ['PUT', '/api/v1/actuators/pump'],
      ['PUT', '/api/v1/actuators/heater'],
      ['PUT', '/api/v1/config'],
      ['POST', '/api/v1/irrigation/start'],
      ['PUT', '/api/v1/sim/environment'],
      ['POST', '/api/v1/sim/faults'],
    ];
    for (let i = 0; i < 1000; i += 25) {
      const batch = Array.from({ length: 25 }, async () => {
        const [method, path] = pick(routes);
        const body = randomPayload();
        const res = await fetch(`${core.httpUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body,
        });
        const text = await res.text();
        expect(res.status, `${method} ${path} ${body.toString('hex')}`).toBeLessThan(500);
        const json = JSON.parse(text) as Record<string, unknown>;
        if (res.status >= 400)
          expect(json.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
      });
      await Promise.all(batch);
      // Injected slow/busy faults would only make the run longer, not the inputs stranger.
      await rest(core, 'DELETE', '/api/v1/sim/faults');
    }
    // Undo whatever random environment and faults the fuzz left, then check the core still works.
    await rest(core, 'DELETE', '/api/v1/sim/faults');
    expect((await rest(core, 'GET', '/health')).status).toBe(200);
    expect((await rest(core, 'GET', '/api/v1/sensors')).status).toBe(200);
  });
});
