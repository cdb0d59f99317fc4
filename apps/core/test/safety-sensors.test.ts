import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, getService, waitUntil } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { jsonOf, rest, TestClient, uniqueModuleId } from './helpers';

// From outside: the BUILT core (`pnpm exec nx run core:build`), as its image runs it, on the real Mosquitto.
const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');
const mosquitto = getService('mosquitto');
const children: ChildProcess[] = [];
const clients: TestClient[] = [];

async function spawnBuiltCore(
  moduleId: string,
  env: Record<string, string> = {},
): Promise<{ httpUrl: string; output: () => string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run pnpm exec nx run core:build first`);
  const httpPort = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      GROWOFF_MODULE_ID: moduleId,
      GROWOFF_MQTT_URL: mosquitto.url,
      GROWOFF_HTTP_PORT: String(httpPort),
      GROWOFF_DATA_DIR: await mkdtemp(join(tmpdir(), 'core-safety-')),
      GROWOFF_SHUTDOWN_DEADLINE_MS: '3000',
      GROWOFF_SIM_TIME_SCALE: '20',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`core exited (${code}) while starting:\n${out}`))),
  );
  await Promise.race([waitUntil('core process up', () => out.includes('running'), 60_000), exited]);
  return { httpUrl: `http://127.0.0.1:${httpPort}`, output: () => out };
}

async function client(moduleId: string): Promise<TestClient> {
  const c = await TestClient.connect(mosquitto.url, { protocolVersion: 4 });
  clients.push(c);
  await c.subscribe(`growoff/v1/modules/${moduleId}/#`);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('sensor safety of the built core', { timeout: 120_000 }, () => {
  it('with open-circuit on water_level, a pump on is refused', async () => {
    const moduleId = uniqueModuleId('open-circuit');
    const mqtt = await client(moduleId);
    // Real time: the running pump must not drain the reservoir below the float on its own.
    const core = await spawnBuiltCore(moduleId, { GROWOFF_SIM_TIME_SCALE: '1' });
    const level = (value: number) => (m: { topic: string }) =>
      m.topic === topics.sensor(moduleId, 'water_level') &&
      jsonOf(m as never).quality === 'ok' &&
      jsonOf(m as never).value === value;
    const pumpIs = (state: string) => (m: { topic: string }) =>
      m.topic === topics.actuator(moduleId, 'pump') && jsonOf(m as never).state === state;
    await mqtt.waitFor(level(1), 'water_level ok with water', 30_000);

    // With the wire intact the pump runs; cutting the wire stops it.
    expect((await rest(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' })).status).toBe(200);
    const on = jsonOf(await mqtt.waitFor(pumpIs('on'), 'pump on'));
    const low = mqtt.next(level(0), 'water_level reading low water with the wire cut', 30_000);
    const cut = await rest(core, 'POST', '/api/v1/sim/faults', {
      target: 'water_level',
      fault: 'open-circuit',
    });
    expect(cut.status).toBe(200);
    await low;
    await mqtt.waitFor(
      (m) => pumpIs('off')(m) && (jsonOf(m).ts as number) >= (on.ts as number),
      'pump stopped by the interlock',
      30_000,
    );

    const refused = await rest(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'INTERLOCK' } });
    // Registered before publishing: the refusal's event may arrive before the broker's PUBACK.
    const rejected = mqtt.waitFor(
      (m) =>
        m.topic === topics.events(moduleId) &&
        jsonOf(m).type === 'command.rejected' &&
        (jsonOf(m).data as { source?: string }).source === 'mqtt',
      'the MQTT pump on rejected',
    );
    await mqtt.client.publishAsync(topics.actuatorSet(moduleId, 'pump'), JSON.stringify({ state: 'on' }), {
      qos: 1,
    });
    expect(jsonOf(await rejected)).toMatchObject({ data: { code: 'INTERLOCK', source: 'mqtt' } });
    const actuators = (await rest(core, 'GET', '/api/v1/actuators')).body as unknown as { id: string }[];
    expect(actuators.find((a) => a.id === 'pump')).toMatchObject({ state: 'off' });
  });

  it('GROWOFF_HAL=i2c on a machine without /dev/i2c-1 comes up degraded with REST and MQTT answering', async () => {
    const moduleId = uniqueModuleId('no-i2c');
    const mqtt = await client(moduleId);
    // This machine has no I2C adapter; should one exist, a bus number that never does stands in.
    const bus = existsSync('/dev/i2c-1') ? '97' : '1';
    const core = await spawnBuiltCore(moduleId, { GROWOFF_HAL: 'i2c', GROWOFF_I2C_BUS: bus });

    const health = await rest(core, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', reasons: expect.arrayContaining(['hardware']) });
    const missing = (health.body as unknown as { missing: { device: string; error: string }[] }).missing;
    expect(missing.map((m) => m.device)).toEqual(expect.arrayContaining(['pca9685', 'mcp23017', 'sht3x']));
    expect(missing.find((m) => m.device === 'pca9685')!.error).toContain(`/dev/i2c-${bus}`);
    expect(health.body).toMatchObject({
      loopsOff: expect.arrayContaining(['light-schedule', 'climate', 'irrigation']),
    });

    // MQTT: online, and a request is answered.
    await mqtt.waitFor(
      (m) => m.topic === topics.status(moduleId, 'core') && jsonOf(m).state === 'online',
      'core online',
    );
    const answer = mqtt.waitFor(
      (m) => m.topic === topics.response(moduleId, 'core', 'get_sensors'),
      'get_sensors response',
    );
    await mqtt.client.publishAsync(
      topics.request(moduleId, 'core', 'get_sensors'),
      JSON.stringify({ id: 'q1' }),
    );
    expect(jsonOf(await answer)).toMatchObject({ id: 'q1', ok: true });

    // Commands get coded errors, not a crash: the light's chip is missing; the pump's chip is too, so
    // its state cannot be confirmed (unknown, counted as on) and "on" is refused before any interlock.
    const light = await rest(core, 'PUT', '/api/v1/actuators/light', { level: 40 });
    expect(light.status).toBe(503);
    expect(light.body).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    const pump = await rest(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' });
    expect(pump.status).toBe(503);
    expect(pump.body).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    expect((await rest(core, 'GET', '/api/v1/sensors/water_level')).body).toMatchObject({
      value: null,
      quality: 'unavailable',
    });
  });
});
