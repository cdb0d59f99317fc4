import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SENSOR_IDS } from '@growoff/hal';
import { getService, waitUntil } from '@growoff/test-services';
import type { RunningCore } from '../src/core';
import type { SensorSnapshot } from '../src/core-types';
import { rest, startTestCore, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

describe('REST API', () => {
  let core: RunningCore;

  beforeAll(async () => {
    core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('rest'),
      GROWOFF_MQTT_URL: mosquitto.url,
    });
    await waitUntil('first samples', () => core.store.readings().length >= 8, 10_000);
  });

  afterAll(async () => {
    await core?.stop();
  });

  it('serves health with mqtt, telemetry and hal parts', async () => {
    const { status, body } = await rest(core, 'GET', '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: expect.stringMatching(/ok|degraded/),
      version: expect.any(String),
      uptimeS: expect.any(Number),
      mqtt: { connected: expect.any(Boolean) },
      telemetry: { sink: expect.any(String) },
      hal: { devices: expect.any(Object) },
    });
  });

  it('lists every default sensor and serves one by id; unknown ids are 404 UNKNOWN_SENSOR', async () => {
    const list = await rest(core, 'GET', '/api/v1/sensors');
    const ids = (list.body as unknown as { id: string }[]).map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining([...DEFAULT_SENSOR_IDS]));
    const one = await rest(core, 'GET', '/api/v1/sensors/ph');
    expect(one.body).toMatchObject({ id: 'ph', quality: 'ok', value: expect.any(Number) });
    const missing = await rest(core, 'GET', '/api/v1/sensors/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'UNKNOWN_SENSOR' } });
  });

  it('lists the latest sample of every sensor: a new reading is in the very next answer, as JSON', async () => {
    type Listed = { id: string; ts: number; value: number | null; quality: string };
    const before = (await rest(core, 'GET', '/api/v1/sensors')).body as unknown as Listed[];
    // A sample newer than the listed one: a sensor can hand out the same measurement twice (the SCD4x
    // between its conversions, a read shared with another caller), which is no new reading.
    const listedTs = new Map(before.map((s) => [s.id, s.ts]));
    const sample = await new Promise<SensorSnapshot>((resolve) => {
      const off = core.bus.on('reading', (r) => {
        if (!(r.ts > (listedTs.get(r.id) ?? Infinity))) return;
        off();
        resolve(r);
      });
    });
    const res = await fetch(`${core.httpUrl}/api/v1/sensors`);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const after = (await res.json()) as Listed[];
    expect(after.find((s) => s.id === sample.id)).toMatchObject({
      ts: sample.ts,
      value: sample.value,
      quality: sample.quality,
    });
    expect(after.map((s) => s.id)).toEqual(before.map((s) => s.id));
  });

  it('sets an actuator and refuses bad bodies with coded 400s', async () => {
    const ok = await rest(core, 'PUT', '/api/v1/actuators/fan', { level: 25 });
    expect(ok).toMatchObject({ status: 200, body: { id: 'fan', kind: 'dimmer', level: 25 } });
    expect((await rest(core, 'PUT', '/api/v1/actuators/fan', { level: 101 })).body).toMatchObject({
      error: { code: 'INVALID_MESSAGE' },
    });
    expect((await rest(core, 'PUT', '/api/v1/actuators/fan', '{oops')).body).toMatchObject({
      error: { code: 'BAD_JSON' },
    });
    expect((await rest(core, 'PUT', '/api/v1/actuators/pump', { level: 20 })).body).toMatchObject({
      error: { code: 'INVALID_MESSAGE', message: expect.stringMatching(/switch/) },
    });
    const events = await rest(core, 'GET', '/api/v1/events?limit=500');
    expect(
      (events.body as unknown as { type: string }[]).filter((e) => e.type === 'command.rejected').length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('reads and changes the config, persists it, and refuses an invalid change without touching it', async () => {
    const changed = await rest(core, 'PUT', '/api/v1/config', { climate: { fanLevel: 55 } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ climate: { fanLevel: 55 } });
    const refused = await rest(core, 'PUT', '/api/v1/config', { climate: { fanOffBelowC: 99 } });
    expect(refused.status).toBe(400);
    expect((await rest(core, 'GET', '/api/v1/config')).body).toMatchObject({
      climate: { fanLevel: 55, fanOffBelowC: 26 },
    });
  });

  it('holds the update lock during an irrigation cycle and releases it after', async () => {
    expect((await rest(core, 'GET', '/api/v1/update-lock')).body).toMatchObject({
      held: false,
      maxAgeS: 900,
    });
    const started = await rest(core, 'POST', '/api/v1/irrigation/start', { runSeconds: 1 });
    expect(started.status).toBe(200);
    expect((await rest(core, 'GET', '/api/v1/update-lock')).body).toMatchObject({
      held: true,
      reason: 'irrigation',
      since: expect.any(Number),
    });
    expect((await rest(core, 'POST', '/api/v1/irrigation/start', {})).body).toMatchObject({
      error: { code: 'CONFLICT' },
    });
    await waitUntil(
      'cycle over',
      async () => (await rest(core, 'GET', '/api/v1/update-lock')).body.held === false,
      5000,
    );
    expect((await rest(core, 'GET', '/api/v1/actuators')).body).toContainEqual(
      expect.objectContaining({ id: 'pump', state: 'off' }),
    );
  });

  it('sets the simulated environment and injects faults; a failed sensor reports its quality', async () => {
    const env = await rest(core, 'PUT', '/api/v1/sim/environment', { airTemperature: 31.5 });
    expect(env.body.airTemperature).toBeCloseTo(31.5, 3);
    expect(
      (await rest(core, 'POST', '/api/v1/sim/faults', { target: 'ph', fault: 'unplugged' })).status,
    ).toBe(200);
    await waitUntil(
      'ph fails',
      async () => (await rest(core, 'GET', '/api/v1/sensors/ph')).body.quality !== 'ok',
      5000,
    );
    expect((await rest(core, 'GET', '/api/v1/sensors/ph')).body).toMatchObject({ value: null });
    await rest(core, 'DELETE', '/api/v1/sim/faults?target=ph');
    await waitUntil(
      'ph back',
      async () => (await rest(core, 'GET', '/api/v1/sensors/ph')).body.quality === 'ok',
      10_000,
    );
    const events = (await rest(core, 'GET', '/api/v1/events?limit=500')).body as unknown as {
      type: string;
    }[];
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['sensor.lost', 'sensor.restored']));
  });

  it('stops the running pump when the water level drops, and says so', async () => {
    core.hal.simulation!.setEnvironment({ waterLevel: 0.9 });
    await waitUntil('water level fresh and high', () => core.store.reading('water_level')?.value === 1, 5000);
    expect((await rest(core, 'PUT', '/api/v1/actuators/pump', { state: 'on' })).status).toBe(200);
    core.hal.simulation!.setEnvironment({ waterLevel: 0 });
    await waitUntil(
      'pump stopped',
      () => {
        const pump = core.store.actuator('pump')?.state;
        return pump !== undefined && 'state' in pump && pump.state === 'off';
      },
      5000,
    );
    const events = (await rest(core, 'GET', '/api/v1/events?limit=500')).body as unknown as {
      type: string;
      message: string;
    }[];
    expect(events.find((e) => e.type === 'interlock.tripped')?.message).toMatch(
      /pump stopped: water level is low/,
    );
    core.hal.simulation!.setEnvironment({ waterLevel: 0.9 });
  });

  it('pauses climate control on a stale input and says so, then resumes', async () => {
    expect(
      (await rest(core, 'POST', '/api/v1/sim/faults', { target: 'air_temperature', fault: 'unplugged' }))
        .status,
    ).toBe(200);
    await waitUntil(
      'control.stale event',
      async () => {
        const events = (await rest(core, 'GET', '/api/v1/events?limit=500')).body as unknown as {
          type: string;
          data?: { loop?: string };
        }[];
        return events.some((e) => e.type === 'control.stale' && e.data?.loop === 'climate');
      },
      10_000,
    );
    await rest(core, 'DELETE', '/api/v1/sim/faults?target=air_temperature');
    await waitUntil(
      'control.resumed event',
      async () => {
        const events = (await rest(core, 'GET', '/api/v1/events?limit=500')).body as unknown as {
          type: string;
        }[];
        return events.some((e) => e.type === 'control.resumed');
      },
      10_000,
    );
  });

  it('documents every route in OpenAPI and serves Swagger UI', async () => {
    const spec = await rest(core, 'GET', '/docs/json');
    const paths = Object.keys(spec.body.paths as object);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/health',
        '/api/v1/sensors',
        '/api/v1/sensors/{id}',
        '/api/v1/actuators/{id}',
        '/api/v1/config',
        '/api/v1/events',
        '/api/v1/update-lock',
      ]),
    );
    expect((await fetch(`${core.httpUrl}/docs`)).status).toBeLessThan(400);
  });
});

describe('REST API with GROWOFF_HTTP_TOKEN set', () => {
  it('requires the bearer token on every route but /health', async () => {
    const core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('token'),
      GROWOFF_MQTT_URL: mosquitto.url,
      GROWOFF_HTTP_TOKEN: 'sesame',
    });
    try {
      expect((await rest(core, 'GET', '/health')).status).toBe(200);
      const denied = await rest(core, 'GET', '/api/v1/sensors');
      expect(denied).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
      expect(
        (await rest(core, 'GET', '/api/v1/sensors', undefined, { authorization: 'Bearer sesame' })).status,
      ).toBe(200);
    } finally {
      await core.stop();
    }
  });
});
