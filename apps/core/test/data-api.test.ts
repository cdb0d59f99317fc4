import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getService } from '@growoff/test-services';
import { topics, type AlarmsMessage, type CalibrationStatus, type History } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import type { SensorSnapshot } from '../src/core-types';
import { jsonOf, rest, startTestCore, TestClient, uniqueModuleId } from './helpers';

const mosquitto = getService('mosquitto');

/** The next sample of a sensor that satisfies `match`, as the core records it. */
function nextReading(
  core: RunningCore,
  id: string,
  match: (r: SensorSnapshot) => boolean,
  timeoutMs = 15_000,
) {
  return new Promise<SensorSnapshot>((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${id} reading within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = core.bus.on('reading', (r) => {
      if (r.id !== id || !match(r)) return;
      clearTimeout(timer);
      off();
      resolve(r);
    });
  });
}

describe('history, calibration and alarms over REST and MQTT (Mosquitto)', () => {
  const moduleId = uniqueModuleId('data');
  let core: RunningCore;
  let mqtt: TestClient;
  let seq = 0;

  /** An MQTT 3.1.1 request through core/req/{method}; resolves with the response on core/res/{method}. */
  async function request(method: string, params: Record<string, unknown>) {
    const id = `r-${++seq}`;
    const answer = mqtt.next(
      (m) => m.topic === topics.response(moduleId, 'core', method) && (m.json() as { id?: string }).id === id,
      `res/${method} ${id}`,
      20_000,
    );
    mqtt.client.publish(topics.request(moduleId, 'core', method), JSON.stringify({ id, ...params }));
    return jsonOf(await answer) as { ok: boolean; result?: never; error?: { code: string; message: string } };
  }

  beforeAll(async () => {
    core = await startTestCore({ GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: mosquitto.url });
    mqtt = await TestClient.connect(core.mqttUrl, { protocolVersion: 4 });
    await mqtt.subscribe(`growoff/v1/modules/${moduleId}/#`);
  });

  afterAll(async () => {
    await mqtt?.close();
    await core?.stop();
  });

  describe('history', () => {
    it('GET /api/v1/sensors/{id}/history answers buckets with the mean of the recorded readings', async () => {
      const r = await nextReading(core, 'air_temperature', (x) => x.quality === 'ok');
      const from = Math.floor((r.ts - 60_000) / 1000) * 1000;
      const res = await rest(
        core,
        'GET',
        `/api/v1/sensors/air_temperature/history?from=${from}&to=${r.ts + 1}&step=1000`,
      );
      expect(res.status).toBe(200);
      const h = res.body as unknown as History;
      expect(h).toMatchObject({ sensor: 'air_temperature', unit: '°C', from, to: r.ts + 1, step: 1000 });
      expect(h.points).toHaveLength(61);
      const bucket = h.points.find(([start]) => start === Math.floor(r.ts / 1000) * 1000)!;
      expect(bucket[1]).not.toBeNull();
      expect(Math.abs(bucket[1]! - r.value!)).toBeLessThan(2);
      expect(h.points[0]![1]).toBeNull(); // before the core started
    });

    it('GET history defaults to the last hour', async () => {
      const res = await rest(core, 'GET', '/api/v1/sensors/ph/history');
      expect(res.status).toBe(200);
      const h = res.body as unknown as History;
      expect(h.step).toBe(10_000);
      expect(h.to - h.from).toBeGreaterThanOrEqual(3_600_000);
      expect(h.to - h.from).toBeLessThan(3_610_000);
      expect(h.points.length).toBe(Math.ceil((h.to - h.from) / h.step));
    });

    it('GET history refuses a bad query with 400 INVALID_MESSAGE and an unknown sensor with 404 UNKNOWN_SENSOR', async () => {
      for (const q of ['step=10', 'from=abc', 'from=2000&to=1000', 'from=0&to=86400000000&step=1000']) {
        const res = await rest(core, 'GET', `/api/v1/sensors/ph/history?${q}`);
        expect(res.status, q).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'INVALID_MESSAGE' });
      }
      const res = await rest(core, 'GET', '/api/v1/sensors/nope/history');
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'UNKNOWN_SENSOR' });
    });

    it('MQTT get_history answers the same shape, and INVALID_MESSAGE / UNKNOWN_SENSOR', async () => {
      const to = Date.now();
      const ok = await request('get_history', { sensor: 'ph', from: to - 30_000, to, step: 5000 });
      expect(ok.ok).toBe(true);
      expect(ok.result).toMatchObject({ sensor: 'ph', unit: 'pH', step: 5000 });
      expect((ok.result as unknown as History).points).toHaveLength(7);
      expect((await request('get_history', { sensor: 'ph', step: 'fast' })).error).toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      expect((await request('get_history', { sensor: 'nope' })).error).toMatchObject({
        code: 'UNKNOWN_SENSOR',
      });
    });
  });

  describe('calibration', () => {
    it('GET calibration of a probe shows no points, the device count and no reminder', async () => {
      const res = await rest(core, 'GET', '/api/v1/sensors/ph/calibration');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        sensor: 'ph',
        points: [],
        calibratedAt: null,
        dueAt: null,
        due: false,
        offset: 0,
        scale: 1,
        actions: ['mid', 'low', 'high', 'clear', 'offset'],
        devicePoints: 0,
      });
    });

    it('POST a pH mid point: the circuit holds it (Cal,? = 1), readings move to it, the date and due date are kept', async () => {
      core.hal.simulation!.setEnvironment({ ph: 6.6 });
      await nextReading(core, 'ph', (r) => r.value !== null && Math.abs(r.value - 6.6) < 0.2);
      const before = Date.now();
      const res = await rest(core, 'POST', '/api/v1/sensors/ph/calibration', { action: 'mid', value: 7 });
      expect(res.status).toBe(200);
      const s = res.body as unknown as CalibrationStatus;
      expect(s.points).toEqual([{ action: 'mid', value: 7, at: s.calibratedAt }]);
      expect(s.calibratedAt).toBeGreaterThanOrEqual(before);
      expect(s.dueAt).toBe(s.calibratedAt! + 30 * 86_400_000);
      expect(s.devicePoints).toBe(1);
      const r = await nextReading(core, 'ph', (x) => x.quality === 'ok' && x.ts > s.calibratedAt!);
      expect(r.value!).toBeCloseTo(7, 0);
      expect(Math.abs(r.value! - 7)).toBeLessThan(0.2);
      await mqtt.waitFor(
        (m) =>
          m.topic === topics.events(moduleId) &&
          (m.json() as { type: string }).type === 'calibration.changed',
        'calibration.changed event',
      );
    });

    it('POST refuses a step the sensor does not take, or the circuit refuses, with 400 INVALID_MESSAGE', async () => {
      for (const [id, body] of [
        ['air_temperature', { action: 'mid', value: 7 }],
        ['ph', { action: 'dry' }],
        ['ph', { action: 'low', value: 4 }], // still in the mid buffer: the circuit answers code 2
        ['ph', { action: 'boil' }],
        ['ph', { action: 'offset' }],
        ['ph', { action: 'offset', scale: 0 }],
      ] as const) {
        const res = await rest(core, 'POST', `/api/v1/sensors/${id}/calibration`, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'INVALID_MESSAGE' });
      }
      expect((await rest(core, 'GET', '/api/v1/sensors/ph/calibration')).body).toMatchObject({
        points: [{ action: 'mid' }],
        devicePoints: 1,
      });
    });

    it('POST to an unknown sensor is 404 UNKNOWN_SENSOR; to a probe that does not answer, 503 UNAVAILABLE', async () => {
      const unknown = await rest(core, 'POST', '/api/v1/sensors/nope/calibration', { action: 'clear' });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatchObject({ code: 'UNKNOWN_SENSOR' });
      expect((await rest(core, 'GET', '/api/v1/sensors/nope/calibration')).status).toBe(404);
      core.hal.simulation!.injectFault('ec', 'unplugged');
      try {
        const res = await rest(core, 'POST', '/api/v1/sensors/ec/calibration', { action: 'dry' });
        expect(res.status).toBe(503);
        expect(res.body.error).toMatchObject({ code: 'UNAVAILABLE' });
        expect((await rest(core, 'GET', '/api/v1/sensors/ec/calibration')).body).toMatchObject({
          points: [],
          calibratedAt: null,
          devicePoints: null,
        });
      } finally {
        core.hal.simulation!.clearFaults('ec');
      }
    });

    it('an offset and scale apply to every reading of any sensor', async () => {
      const res = await rest(core, 'POST', '/api/v1/sensors/light_intensity/calibration', {
        action: 'offset',
        value: 1000,
        scale: 2,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        offset: 1000,
        scale: 2,
        points: [],
        calibratedAt: expect.any(Number),
      });
      const raw = await core.hal.read('light_intensity');
      const r = await nextReading(core, 'light_intensity', (x) => x.quality === 'ok');
      // Lux moves with the light ramp, but the offset alone lifts it past any raw value here.
      expect(r.value!).toBeGreaterThanOrEqual(1000);
      expect(r.value!).toBeCloseTo(raw.value! * 2 + 1000, -3);
    });

    it('CO2 forced recalibration through MQTT calibrate makes the SCD4x read the reference', async () => {
      core.hal.simulation!.setEnvironment({ co2: 900, ambientCo2: 900 });
      const res = await request('calibrate', { sensor: 'co2', action: 'forced', value: 450 });
      expect(res.ok).toBe(true);
      expect(res.result).toMatchObject({ sensor: 'co2', points: [{ action: 'forced', value: 450 }] });
      const at = (res.result as unknown as CalibrationStatus).calibratedAt!;
      const r = await nextReading(core, 'co2', (x) => x.quality === 'ok' && x.ts > at + 100);
      expect(Math.abs(r.value! - 450)).toBeLessThan(120);
    });

    it('MQTT get_calibration and calibrate answer errors with UNKNOWN_SENSOR, INVALID_MESSAGE and UNAVAILABLE', async () => {
      const ok = await request('get_calibration', { sensor: 'ph' });
      expect(ok).toMatchObject({ ok: true, result: { sensor: 'ph', points: [{ action: 'mid' }] } });
      expect((await request('get_calibration', { sensor: 'nope' })).error).toMatchObject({
        code: 'UNKNOWN_SENSOR',
      });
      expect((await request('get_calibration', {})).error).toMatchObject({ code: 'INVALID_MESSAGE' });
      expect((await request('calibrate', { sensor: 'nope', action: 'clear' })).error).toMatchObject({
        code: 'UNKNOWN_SENSOR',
      });
      expect((await request('calibrate', { sensor: 'co2', action: 'mid', value: 7 })).error).toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      expect(
        (await request('calibrate', { sensor: 'ph', action: 'mid', value: 7, extra: 1 })).error,
      ).toMatchObject({
        code: 'INVALID_MESSAGE',
      });
      core.hal.simulation!.injectFault('ph', 'unplugged');
      try {
        expect((await request('calibrate', { sensor: 'ph', action: 'clear' })).error).toMatchObject({
          code: 'UNAVAILABLE',
        });
      } finally {
        core.hal.simulation!.clearFaults('ph');
      }
    });

    it('reminds with due: true and a calibration.due event once the interval has passed', async () => {
      const seen = mqtt.next(
        (m) =>
          m.topic === topics.events(moduleId) &&
          (m.json() as { type: string; data?: { sensor?: string } }).type === 'calibration.due' &&
          (m.json() as { data: { sensor: string } }).data.sensor === 'ph',
        'calibration.due for ph',
      );
      const cfg = await rest(core, 'PUT', '/api/v1/config', { calibration: { intervalDays: { ph: 1e-9 } } });
      expect(cfg.status).toBe(200);
      await seen;
      const s = (await rest(core, 'GET', '/api/v1/sensors/ph/calibration'))
        .body as unknown as CalibrationStatus;
      expect(s.due).toBe(true);
      expect(s.dueAt).toBe(s.calibratedAt! + 0);
    });
  });

  describe('alarms', () => {
    it('raises an alarm as an event and on the retained alarms topic; GET /api/v1/alarms lists it', async () => {
      const raised = mqtt.next(
        (m) => m.topic === topics.events(moduleId) && (m.json() as { type: string }).type === 'alarm.raised',
        'alarm.raised',
      );
      const published = mqtt.next(
        (m) => m.topic === topics.alarms(moduleId) && (m.json() as AlarmsMessage).alarms.length > 0,
        'alarms with one',
      );
      const cfg = await rest(core, 'PUT', '/api/v1/config', {
        alarms: { limits: { air_temperature: { high: 5, hysteresis: 1, delayS: 0 } } },
      });
      expect(cfg.status).toBe(200);
      expect(jsonOf(await raised)).toMatchObject({
        severity: 'warning',
        data: { sensor: 'air_temperature', limit: 'high', acknowledged: false },
      });
      expect((jsonOf(await published) as unknown as AlarmsMessage).alarms).toEqual([
        expect.objectContaining({ sensor: 'air_temperature', limit: 'high', since: expect.any(Number) }),
      ]);
      const late = await TestClient.connect(core.mqttUrl, { protocolVersion: 4 });
      await late.subscribe(topics.alarms(moduleId));
      const kept = await late.waitFor((m) => m.topic === topics.alarms(moduleId), 'retained alarms');
      expect(kept.packet.retain).toBe(true);
      expect((kept.json() as AlarmsMessage).alarms[0]).toMatchObject({ sensor: 'air_temperature' });
      await late.close();
      const list = await rest(core, 'GET', '/api/v1/alarms');
      expect(list.status).toBe(200);
      expect(list.body).toEqual({
        alarms: [expect.objectContaining({ sensor: 'air_temperature', limit: 'high' })],
      });
    });

    it('POST /api/v1/alarms/ack acknowledges it (event, retained update); unknown 404 NOT_FOUND, bad body 400', async () => {
      const update = mqtt.next(
        (m) =>
          m.topic === topics.alarms(moduleId) && (m.json() as AlarmsMessage).alarms[0]?.acknowledged === true,
        'acknowledged alarm',
      );
      const res = await rest(core, 'POST', '/api/v1/alarms/ack', {
        sensor: 'air_temperature',
        limit: 'high',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ sensor: 'air_temperature', limit: 'high', acknowledged: true });
      await update;
      await mqtt.waitFor(
        (m) =>
          m.topic === topics.events(moduleId) && (m.json() as { type: string }).type === 'alarm.acknowledged',
        'alarm.acknowledged',
      );
      const unknown = await rest(core, 'POST', '/api/v1/alarms/ack', {
        sensor: 'air_temperature',
        limit: 'low',
      });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error).toMatchObject({ code: 'NOT_FOUND' });
      const bad = await rest(core, 'POST', '/api/v1/alarms/ack', {
        sensor: 'air_temperature',
        limit: 'middle',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'INVALID_MESSAGE' });
    });

    it('MQTT get_alarms and ack_alarm; NOT_FOUND and INVALID_MESSAGE', async () => {
      const raised = mqtt.next(
        (m) =>
          m.topic === topics.events(moduleId) &&
          (m.json() as { type: string; data: { sensor: string } }).type === 'alarm.raised' &&
          (m.json() as { data: { sensor: string } }).data.sensor === 'air_humidity',
        'humidity alarm',
      );
      await rest(core, 'PUT', '/api/v1/config', {
        alarms: {
          limits: {
            air_temperature: { high: 5, hysteresis: 1, delayS: 0 },
            air_humidity: { low: 101, hysteresis: 0, delayS: 0 },
          },
        },
      });
      await raised;
      const list = await request('get_alarms', {});
      expect(list.ok).toBe(true);
      expect((list.result as unknown as { alarms: unknown[] }).alarms).toHaveLength(2);
      const ack = await request('ack_alarm', { sensor: 'air_humidity', limit: 'low' });
      expect(ack).toMatchObject({
        ok: true,
        result: { sensor: 'air_humidity', limit: 'low', acknowledged: true },
      });
      expect((await request('ack_alarm', { sensor: 'ph', limit: 'high' })).error).toMatchObject({
        code: 'NOT_FOUND',
      });
      expect((await request('ack_alarm', { sensor: 'ph' })).error).toMatchObject({ code: 'INVALID_MESSAGE' });
    });

    it('clears an alarm once readings are back inside, as an event and on the retained topic', async () => {
      const cleared = mqtt.next(
        (m) =>
          m.topic === topics.events(moduleId) &&
          (m.json() as { type: string; data: { sensor: string } }).type === 'alarm.cleared' &&
          (m.json() as { data: { sensor: string } }).data.sensor === 'air_temperature',
        'alarm.cleared',
      );
      await rest(core, 'PUT', '/api/v1/config', {
        alarms: {
          limits: {
            air_temperature: { high: 60, hysteresis: 1, delayS: 0 },
            air_humidity: { low: 101, hysteresis: 0, delayS: 0 },
          },
        },
      });
      expect(jsonOf(await cleared)).toMatchObject({ severity: 'info', data: { limit: 'high' } });
      const left = await mqtt.waitFor(
        (m) =>
          m.topic === topics.alarms(moduleId) &&
          (m.json() as AlarmsMessage).alarms.length === 1 &&
          (m.json() as AlarmsMessage).alarms[0]!.sensor === 'air_humidity',
        'alarms without air_temperature',
      );
      expect(left.packet.retain).toBe(false);
    });

    it('refuses an alarm config whose bands overlap with 400 INVALID_MESSAGE, changing nothing', async () => {
      const before = (await rest(core, 'GET', '/api/v1/config')).body;
      const res = await rest(core, 'PUT', '/api/v1/config', {
        alarms: { limits: { ph: { low: 6, high: 6.1, hysteresis: 0.1, delayS: 0 } } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'INVALID_MESSAGE' });
      expect((await rest(core, 'GET', '/api/v1/config')).body).toEqual(before);
    });
  });

  it('documents every new route with its schemas in the OpenAPI document', async () => {
    const doc = (await rest(core, 'GET', '/docs/json')).body as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: unknown }>>;
    };
    const paths = doc.paths;
    expect(paths['/api/v1/sensors/{id}/history']!['get']!.responses).toHaveProperty('200');
    expect(paths['/api/v1/sensors/{id}/history']!['get']!.responses).toHaveProperty('400');
    expect(paths['/api/v1/sensors/{id}/calibration']!['get']!.responses).toHaveProperty('404');
    expect(paths['/api/v1/sensors/{id}/calibration']!['post']!.requestBody).toBeDefined();
    expect(paths['/api/v1/sensors/{id}/calibration']!['post']!.responses).toHaveProperty('503');
    expect(paths['/api/v1/alarms']!['get']!.responses).toHaveProperty('200');
    expect(paths['/api/v1/alarms/ack']!['post']!.responses).toHaveProperty('404');
  });

  it('keeps calibration and history across a restart of the core', async () => {
    const dataDir = core.config.dataDir;
    const before = (await rest(core, 'GET', '/api/v1/sensors/ph/calibration'))
      .body as unknown as CalibrationStatus;
    const to = Date.now();
    const historyBefore = (
      await rest(core, 'GET', `/api/v1/sensors/ph/history?from=${to - 60_000}&to=${to}&step=60000`)
    ).body as unknown as History;
    await core.stop();
    core = await startTestCore({
      GROWOFF_MODULE_ID: moduleId,
      GROWOFF_MQTT_URL: mosquitto.url,
      GROWOFF_DATA_DIR: dataDir,
    });
    const after = (await rest(core, 'GET', '/api/v1/sensors/ph/calibration'))
      .body as unknown as CalibrationStatus;
    expect(after).toMatchObject({
      points: before.points,
      calibratedAt: before.calibratedAt,
      offset: 0,
      scale: 1,
    });
    const historyAfter = (
      await rest(core, 'GET', `/api/v1/sensors/ph/history?from=${to - 60_000}&to=${to}&step=60000`)
    ).body as unknown as History;
    const last = historyBefore.points.at(-1)!;
    expect(last[1]).not.toBeNull();
    expect(historyAfter.points.at(-1)).toEqual(last);
    const light = (await rest(core, 'GET', '/api/v1/sensors/light_intensity/calibration')).body;
    expect(light).toMatchObject({ offset: 1000, scale: 2 });
  });
});
