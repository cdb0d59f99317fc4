import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { topics } from '@growoff/protocol';
import {
  freePort,
  getService,
  jsonWhenUp,
  spawnBuiltApp,
  waitUntil,
  type SpawnedApp,
} from '@growoff/test-services';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { builtUpdaterEnv } from './support/built-updater';

const packageDir = join(import.meta.dirname, '..');
const influx = getService('influxdb');
const broker = getService('mosquitto').url;

async function influxQl(q: string, db?: string): Promise<unknown[][]> {
  const params = new URLSearchParams({ q, ...(db ? { db } : {}) });
  const res = await fetch(`${influx.url}/query`, { method: 'POST', body: params });
  const body = (await res.json()) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> };
  return body.results[0]?.series?.[0]?.values ?? [];
}

describe('the built updater sends its events to telemetry', { timeout: 90_000 }, () => {
  const db = `updater_events_${randomBytes(4).toString('hex')}`;
  const dirs: string[] = [];
  const modules: string[] = [];
  let app: SpawnedApp | undefined;
  let client: mqtt.MqttClient;

  beforeAll(async () => {
    await influxQl(`CREATE DATABASE "${db}"`);
    client = await mqtt.connectAsync(broker, { protocolVersion: 5 });
  });

  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  afterAll(async () => {
    // The updaters' retained statuses (offline by now) go with the test.
    for (const moduleId of modules) {
      await client.publishAsync(topics.status(moduleId, 'updater'), '', { retain: true });
    }
    await client?.endAsync();
    await influxQl(`DROP DATABASE "${db}"`);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function newDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'updater-telemetry-'));
    dirs.push(dir);
    return dir;
  }

  /** Resolves once the updater is online: it has subscribed to its requests by then. */
  async function online(moduleId: string): Promise<void> {
    modules.push(moduleId);
    const statusTopic = topics.status(moduleId, 'updater');
    const seen = new Promise<void>((resolve) => {
      const onMessage = (topic: string, payload: Buffer) => {
        if (topic !== statusTopic || payload.length === 0) return;
        if ((JSON.parse(payload.toString()) as { state?: string }).state !== 'online') return;
        client.off('message', onMessage);
        resolve();
      };
      client.on('message', onMessage);
    });
    await client.subscribeAsync(statusTopic);
    await seen;
  }

  /** Sends the updater a request for a method it does not have: it refuses it with an event. */
  async function refusedRequest(moduleId: string): Promise<void> {
    await online(moduleId);
    const responseTopic = `test/updater-telemetry/${moduleId}/res`;
    await client.subscribeAsync(responseTopic);
    const answered = new Promise<Record<string, unknown>>((resolve) =>
      client.on('message', (topic, payload) => {
        if (topic === responseTopic) resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
      }),
    );
    await client.publishAsync(topics.request(moduleId, 'updater', 'no_such_method'), '{"id":1}', {
      qos: 1,
      properties: { responseTopic },
    });
    expect(await answered).toMatchObject({ error: { code: 'UNKNOWN_METHOD' } });
  }

  it('into InfluxDB with the contract tags, from its GROWOFF_TELEMETRY_* variables, and warns of none of its variables', async () => {
    const dir = newDir();
    const env = {
      ...(await builtUpdaterEnv('telemetry', dir)),
      GROWOFF_TELEMETRY_URL: influx.url,
      GROWOFF_TELEMETRY_API: 'v1',
      GROWOFF_TELEMETRY_BUCKET: db,
    };
    const moduleId = env.GROWOFF_MODULE_ID;
    app = spawnBuiltApp(packageDir, env);
    await app.waitForLine('growoff-updater REST on');
    await refusedRequest(moduleId);

    const query = `SELECT "message", "severity" FROM "event" WHERE "module" = '${moduleId}' AND "type" = 'command.rejected'`;
    let rows: unknown[][] = [];
    await waitUntil('the refusal event in InfluxDB', async () => {
      rows = await influxQl(query, db);
      return rows.length > 0;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]![1]).toContain('updater/req/no_such_method');
    expect(rows[0]![2]).toBe('warning');
    // /health counts it, as the core's does.
    const health = (await jsonWhenUp(`http://127.0.0.1:${env.GROWOFF_UPDATER_HTTP_PORT}/health`)) as {
      telemetry: { produced: number; delivered: number; sink: string };
    };
    expect(health.telemetry.delivered).toBeGreaterThanOrEqual(1);
    expect(health.telemetry.sink).toBe(`influxdb-v1 ${influx.url}`);
    expect(app.output()).toContain('GROWOFF_TELEMETRY_URL=');
    expect(app.output()).not.toContain('warning: GROWOFF_');
  });

  it("does not hold a SIGTERM (nor a hand-over's journal lock) for Telegraf while it is away: its events wait on disk for the next start", async () => {
    const dir = newDir();
    const env = {
      ...(await builtUpdaterEnv('telemetry', dir)),
      GROWOFF_TELEMETRY_API: 'v1',
      GROWOFF_TELEMETRY_BUCKET: db,
      GROWOFF_SHUTDOWN_DEADLINE_MS: '8000',
    };
    // Nothing listens there.
    app = spawnBuiltApp(packageDir, {
      ...env,
      GROWOFF_TELEMETRY_URL: `http://127.0.0.1:${await freePort()}`,
    });
    await app.waitForLine('growoff-updater REST on');
    await refusedRequest(env.GROWOFF_MODULE_ID);
    const signalled = performance.now();
    await app.stop();
    const { code, at } = await app.exited;
    expect(code).toBe(0);
    // At most a second of its 8 s deadline goes to telemetry; the rest of the stop takes far less.
    expect(at - signalled).toBeLessThan(4000);

    // The same data dir with Telegraf (here InfluxDB) back: the refusal arrives as it was queued.
    app = spawnBuiltApp(packageDir, { ...env, GROWOFF_TELEMETRY_URL: influx.url });
    const query = `SELECT "message" FROM "event" WHERE "module" = '${env.GROWOFF_MODULE_ID}' AND "type" = 'command.rejected'`;
    await waitUntil('the queued refusal in InfluxDB', async () => (await influxQl(query, db)).length > 0);
    expect(await influxQl(query, db)).toHaveLength(1);
  });

  it("keeps the module's apps when its telemetry queue cannot open: it says so once and runs on", async () => {
    const dir = newDir();
    // And a misspelt variable, which changes nothing but a warning.
    const env = { ...(await builtUpdaterEnv('telemetry', dir)), GROWOFF_CHANEL: 'beta' };
    // A file where the queue's folder belongs: the queue cannot be created.
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'telemetry-queue'), 'not a folder');
    app = spawnBuiltApp(packageDir, env);
    await app.waitForLine('growoff-updater REST on');
    expect(await jsonWhenUp(`http://127.0.0.1:${env.GROWOFF_UPDATER_HTTP_PORT}/health`)).toMatchObject({
      status: 'ok',
      telemetry: { off: expect.stringMatching(/telemetry-queue/) },
    });
    expect(app.output().match(/growoff-updater: telemetry off: /g)).toHaveLength(1);
    expect(app.output()).toContain(
      'growoff-updater: warning: GROWOFF_CHANEL is set but not read by the updater, so it has no effect; did you mean GROWOFF_CHANNEL?',
    );
    expect(app.output()).toContain('GROWOFF_CHANNEL=stable');
    await refusedRequest(env.GROWOFF_MODULE_ID);
  });
});
