import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portAnswers, startMosquitto, stopProcess, waitUntil } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { jsonOf, rest, startTestCore, TestClient, uniqueModuleId } from './helpers';

describe('broker outage', () => {
  const moduleId = uniqueModuleId('outage');
  let dir: string;
  let port: number;
  let brokerPid: number;
  let core: RunningCore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'core-mosquitto-'));
    port = await freePort();
    brokerPid = (await startMosquitto({ dir, port })).pid;
    // A slow reconnect lets the test's subscriber be in place before the core comes back with its queue.
    core = await startTestCore(
      { GROWOFF_MODULE_ID: moduleId, GROWOFF_MQTT_URL: `mqtt://127.0.0.1:${port}` },
      { reconnectPeriodMs: 3000 },
    );
  });

  afterAll(async () => {
    await core?.stop();
    if (brokerPid) await stopProcess(brokerPid);
  });

  it('keeps controlling while the broker is down, then republishes retained state and queued events', async () => {
    await waitUntil(
      'core connected',
      () => core.health().mqtt !== undefined && (core.health().mqtt as { connected: boolean }).connected,
      10_000,
    );
    // The climate loop would otherwise be free to drive the fan we use as the witness.
    expect((await rest(core, 'PUT', '/api/v1/config', { climate: { enabled: false } })).status).toBe(200);
    await stopProcess(brokerPid);
    await waitUntil(
      'core notices the outage',
      () => !(core.health().mqtt as { connected: boolean }).connected,
      10_000,
    );

    // Control goes on: a command is applied and an event raised while offline.
    const applied = await rest(core, 'PUT', '/api/v1/actuators/fan', { level: 63 });
    expect(applied.status).toBe(200);
    const rejected = await rest(core, 'PUT', '/api/v1/actuators/heater', { state: 'on' });
    expect(rejected.status).toBe(404);
    expect((core.health().mqtt as { queuedEvents: number }).queuedEvents).toBeGreaterThan(0);

    // The private broker keeps no retained messages across the restart: whatever arrives comes from the core.
    brokerPid = (await startMosquitto({ dir, port })).pid;
    await waitUntil('broker back', () => portAnswers(port), 10_000);
    const client = await TestClient.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5 });
    await client.subscribe(`growoff/v1/modules/${moduleId}/#`);
    const status = await client.waitFor(
      (m) => m.topic === topics.status(moduleId, 'core'),
      'status after restart',
      15_000,
    );
    expect(jsonOf(status)).toMatchObject({ state: 'online' });
    const fan = await client.waitFor(
      (m) => m.topic === topics.actuator(moduleId, 'fan'),
      'fan state after restart',
    );
    expect(jsonOf(fan)).toMatchObject({ level: 63 });
    const queued = await client.waitFor(
      (m) =>
        m.topic === topics.events(moduleId) &&
        (m.json() as { data?: { code?: string } }).data?.code === 'UNKNOWN_ACTUATOR',
      'event queued during the outage',
    );
    expect(jsonOf(queued)).toMatchObject({ type: 'command.rejected' });
    await client.close();
    // And it is retained again on the new broker: a newcomer gets it at once.
    const late = await TestClient.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4 });
    await late.subscribe(topics.actuator(moduleId, 'fan'));
    const retained = await late.waitFor(() => true, 'retained fan state');
    expect(retained.packet.retain).toBe(true);
    expect(jsonOf(retained)).toMatchObject({ level: 63 });
    await late.close();
  });
});
