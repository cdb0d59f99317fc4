import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getService, waitUntil } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import {
  exited,
  jsonOf,
  killCoreProcesses,
  spawnCoreProcess,
  TestClient,
  uniqueModuleId,
  type CoreProcess,
  type Received,
} from './helpers';

/**
 * Actuator safety from outside: the BUILT core (`pnpm exec nx run core:build`) in its own process,
 * on the simulated cabinet, against the shared Mosquitto. Only MQTT, REST, signals and the exit
 * code are used, and the simulated chips' own outputs (`/api/v1/sim/outputs`, and the line the
 * core prints at exit) show what the hardware does, whatever the core believes.
 */
const mosquitto = getService('mosquitto');
const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');
const clients: TestClient[] = [];

function spawnBuiltCore(
  moduleId: string,
  moduleConfig: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<CoreProcess> {
  return spawnCoreProcess({
    args: [MAIN],
    moduleId,
    mqttUrl: mosquitto.url,
    env: { GROWOFF_SHUTDOWN_DEADLINE_MS: '5000', ...env },
    moduleConfig,
  });
}

const urlOf = (core: CoreProcess, path: string) => `http://127.0.0.1:${core.httpPort}${path}`;

async function get(core: CoreProcess, path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(urlOf(core, path))).json()) as Record<string, unknown>;
}

async function post(core: CoreProcess, method: string, path: string, body: unknown) {
  const res = await fetch(urlOf(core, path), {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function actuator(core: CoreProcess, id: string): Promise<{ state?: string; level?: number }> {
  const all = (await get(core, '/api/v1/actuators')) as unknown as {
    id: string;
    state?: string;
    level?: number;
  }[];
  return all.find((a) => a.id === id)!;
}

/** The simulated chips' outputs, 0..1 per actuator. */
async function outputs(core: CoreProcess): Promise<Record<string, number>> {
  return (await get(core, '/api/v1/sim/outputs')) as Record<string, number>;
}

async function waterKnown(core: CoreProcess): Promise<void> {
  await waitUntil(
    'a good water level reading',
    async () => (await get(core, '/api/v1/sensors/water_level')).quality === 'ok',
    30_000,
  );
}

async function watch(moduleId: string, protocolVersion: 4 | 5 = 4): Promise<TestClient> {
  const c = await TestClient.connect(mosquitto.url, { protocolVersion });
  clients.push(c);
  await c.subscribe(`growoff/v1/modules/${moduleId}/#`);
  return c;
}

function event(type: string) {
  return (m: Received) => m.topic.endsWith('/events') && (m.json() as { type: string }).type === type;
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm exec nx run core:build first`);
});

afterEach(async () => {
  killCoreProcesses();
  for (const c of clients.splice(0)) await c.close();
});

const quiet = { light: { enabled: false }, climate: { enabled: false }, irrigation: { enabled: false } };

describe('actuator safety of the built core', { timeout: 90_000 }, () => {
  it('a retained pump "on" and a retained request published before start are rejected as retained and run nothing', async () => {
    const moduleId = uniqueModuleId('retained');
    const setTopic = topics.actuatorSet(moduleId, 'pump');
    const requestTopic = topics.request(moduleId, 'core', 'start_irrigation');
    const w = await watch(moduleId);
    await w.client.publishAsync(setTopic, JSON.stringify({ state: 'on' }), { qos: 1, retain: true });
    // A retained request would start a pump run at every reconnect just the same.
    await w.client.publishAsync(requestTopic, JSON.stringify({ id: 'r1' }), { qos: 1, retain: true });
    try {
      const core = await spawnBuiltCore(moduleId, quiet);
      // The set and the request arrive in either order; each is rejected on its own.
      const rejectedSet = (m: Received) =>
        event('command.rejected')(m) &&
        (m.json() as { data?: { target?: string } }).data?.target === 'set pump';
      const rejected = jsonOf(await w.waitFor(rejectedSet, 'command.rejected of the set'));
      expect(rejected.data).toMatchObject({ source: 'mqtt', target: 'set pump', code: 'INVALID_MESSAGE' });
      expect((rejected.data as { message: string }).message).toMatch(/retained/);
      const answer = await w.waitFor(
        (m) => m.topic === topics.response(moduleId, 'core', 'start_irrigation'),
        'the answer to the retained request',
      );
      expect(jsonOf(answer)).toMatchObject({ id: 'r1', ok: false, error: { code: 'INVALID_MESSAGE' } });
      // Once the pump could run (the water level is known), it still has not.
      await waterKnown(core);
      expect((await outputs(core)).pump).toBe(0);
      expect((await actuator(core, 'pump')).state).toBe('off');
      expect(await get(core, '/api/v1/irrigation')).toMatchObject({ running: false });
    } finally {
      await w.client.publishAsync(setTopic, '', { qos: 1, retain: true });
      await w.client.publishAsync(requestTopic, '', { qos: 1, retain: true });
    }
  });

  it('with maxRunSeconds 3, "on" every 1.5 s stops the pump 3 s after it started and is refused with PUMP_RESTING during the rest', async () => {
    const moduleId = uniqueModuleId('budget');
    const core = await spawnBuiltCore(moduleId, {
      ...quiet,
      irrigation: {
        enabled: false,
        runSeconds: 3,
        maxRunSeconds: 3,
        runWindowSeconds: 600,
        restSeconds: 600,
      },
    });
    await waterKnown(core);
    const c = await watch(moduleId, 5);
    const replies = `core-test/${moduleId}/replies`;
    await c.subscribe(replies);
    const answers: Promise<Record<string, unknown>>[] = [];
    const sendOn = (n: number) => {
      const corr = `on-${n}`;
      answers.push(
        c
          .next(
            (m) => m.topic === replies && m.packet.properties?.correlationData?.toString() === corr,
            `answer ${corr}`,
          )
          .then(jsonOf),
      );
      c.client.publish(topics.actuatorSet(moduleId, 'pump'), JSON.stringify({ state: 'on' }), {
        qos: 1,
        properties: { responseTopic: replies, correlationData: Buffer.from(corr) },
      });
    };
    const pumpOn = c.next(
      (m) => m.topic === topics.actuator(moduleId, 'pump') && (m.json() as { state: string }).state === 'on',
      'pump on',
    );
    const maxRun = c.next(event('pump.max_run'), 'pump.max_run');
    for (let n = 0; n < 5; n++) {
      sendOn(n);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    const [first, second, third, fourth, fifth] = await Promise.all(answers);
    const on = jsonOf(await pumpOn) as { ts: number };
    const stop = jsonOf(await maxRun) as { ts: number; data: Record<string, unknown> };
    // The budget runs from the first start; the "on" at 1.5 s did not re-arm it (that would stop at 4.5 s).
    expect(stop.ts - on.ts).toBeGreaterThanOrEqual(3000);
    expect(stop.ts - on.ts).toBeLessThan(3500);
    expect(stop.data).toMatchObject({ maxRunSeconds: 3, restSeconds: 600 });
    expect(first).toMatchObject({ ok: true, result: { id: 'pump', state: 'on' } });
    expect(second).toMatchObject({ ok: true, result: { id: 'pump', state: 'on' } });
    // The "on" at 3 s meets the stop: either it came just before it, or it was refused.
    expect(third!.ok === true || (third!.error as { code: string }).code === 'PUMP_RESTING').toBe(true);
    for (const late of [fourth, fifth]) {
      expect(late).toMatchObject({ ok: false, error: { code: 'PUMP_RESTING' } });
    }
    expect((await outputs(core)).pump).toBe(0);
    core.child.kill('SIGTERM');
    expect((await exited(core.child)).code).toBe(0);
  });

  it('after a brownout of the pca9685 the light is back at its level within the reconcile interval', async () => {
    const moduleId = uniqueModuleId('brownout');
    const core = await spawnBuiltCore(moduleId, { ...quiet, actuators: { reconcileIntervalMs: 2000 } });
    const w = await watch(moduleId);
    expect((await post(core, 'PUT', '/api/v1/actuators/light', { level: 60 })).status).toBe(200);
    expect((await outputs(core)).light).toBeCloseTo(0.6, 2);
    const mismatch = w.next(event('actuator.mismatch'), 'actuator.mismatch');
    const injectedAt = Date.now();
    expect(
      (await post(core, 'POST', '/api/v1/sim/faults', { target: 'pca9685', fault: 'brownout' })).status,
    ).toBe(200);
    const m = jsonOf(await mismatch) as { ts: number; data: Record<string, unknown> };
    expect(m.data).toMatchObject({ actuator: 'light', desired: { level: 60 }, actual: { level: 0 } });
    await waitUntil(
      'light back at 60 %',
      async () => Math.abs((await outputs(core)).light! - 0.6) < 0.01,
      10_000,
    );
    // One reconcile round after the brown-out, with room for a loaded machine.
    expect(Date.now() - injectedAt).toBeLessThan(2000 + 1500);
    expect((await actuator(core, 'light')).level).toBe(60);
    core.child.kill('SIGTERM');
    expect((await exited(core.child)).code).toBe(0);
  });

  it('a pump whose read-back fails is published unknown, makes health degraded, and is driven off until it reads back off', async () => {
    const moduleId = uniqueModuleId('unknown');
    // The failed read-backs open the MCP23017's circuit breaker for 30 s of device time: run the
    // simulated devices 20 times faster so it is retried within a second and a half.
    const core = await spawnBuiltCore(
      moduleId,
      { ...quiet, actuators: { reconcileIntervalMs: 1000 } },
      { GROWOFF_SIM_TIME_SCALE: '20' },
    );
    await waterKnown(core);
    const w = await watch(moduleId);
    expect((await post(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' })).status).toBe(200);
    const unknown = w.next(
      (m) => m.topic === topics.actuator(moduleId, 'pump') && jsonOf(m).state === 'unknown',
      'pump unknown',
    );
    await post(core, 'POST', '/api/v1/sim/faults', { target: 'pump', fault: 'readback-fail' });
    const refused = await post(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' });
    expect(refused.status).toBe(503);
    await unknown;
    expect((await actuator(core, 'pump')).state).toBe('unknown');
    expect((await get(core, '/health')).status).toBe('degraded');
    await waitUntil('the off write landed', async () => (await outputs(core)).pump === 0, 10_000);
    const off = w.next(
      (m) => m.topic === topics.actuator(moduleId, 'pump') && jsonOf(m).state === 'off',
      'pump confirmed off',
    );
    await fetch(urlOf(core, '/api/v1/sim/faults?target=pump'), { method: 'DELETE' });
    await off;
    expect((await actuator(core, 'pump')).state).toBe('off');
    core.child.kill('SIGTERM');
    expect((await exited(core.child)).code).toBe(0);
  });

  it('SIGTERM with the pump on exits 0 with the pump latch off in the simulated chip', async () => {
    const moduleId = uniqueModuleId('stop-safe');
    const core = await spawnBuiltCore(moduleId, quiet);
    await waterKnown(core);
    expect((await post(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' })).status).toBe(200);
    expect((await outputs(core)).pump).toBe(1);
    core.child.kill('SIGTERM');
    expect((await exited(core.child)).code).toBe(0);
    expect(core.output()).toContain('simulated outputs at exit {"light":0,"fan":0,"pump":0}');
    expect(core.output()).not.toContain('NOT SAFE');
  });

  it('SIGTERM with the pump on and its read-back failing exits non-zero and says the pump was not confirmed safe', async () => {
    const moduleId = uniqueModuleId('stop-unsafe');
    const core = await spawnBuiltCore(moduleId, quiet);
    await waterKnown(core);
    expect((await post(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' })).status).toBe(200);
    expect(
      (await post(core, 'POST', '/api/v1/sim/faults', { target: 'pump', fault: 'readback-fail' })).status,
    ).toBe(200);
    const t0 = Date.now();
    core.child.kill('SIGTERM');
    expect((await exited(core.child)).code).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5000 + 1000);
    expect(core.output()).toMatch(/NOT SAFE: pump was not confirmed safe/);
    // The off write landed; only its confirmation failed.
    expect(core.output()).toContain('"pump":0}');
  });
});
