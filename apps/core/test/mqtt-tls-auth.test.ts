import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecureMosquitto, waitUntil, type SecureMosquitto } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { jsonOf, startTestCore, TestClient, uniqueModuleId } from './helpers';

describe('MQTT over TLS with client certificates and a password', () => {
  let broker: SecureMosquitto;
  const started: RunningCore[] = [];

  beforeAll(async () => {
    broker = await startSecureMosquitto({ users: [{ username: 'core', password: 'right-password' }] });
  });

  afterAll(async () => {
    for (const core of started) await core.stop();
    await broker?.stop();
  });

  it('connects with the CA, client certificate and credentials from the environment', async () => {
    const moduleId = uniqueModuleId('tls');
    const core = await startTestCore({
      GROWOFF_MODULE_ID: moduleId,
      ...broker.env('core', 'right-password'),
    });
    started.push(core);
    const watcher = await TestClient.connect(broker.url, {
      ca: await readFile(broker.caFile),
      cert: await readFile(broker.certFile),
      key: await readFile(broker.keyFile),
      username: 'core',
      password: 'right-password',
    });
    await watcher.subscribe(topics.status(moduleId, 'core'));
    expect(jsonOf(await watcher.waitFor(() => true, 'status over TLS'))).toMatchObject({ state: 'online' });
    await watcher.close();
  });

  it('keeps running, disconnected, when the broker refuses its password', async () => {
    const core = await startTestCore({
      GROWOFF_MODULE_ID: uniqueModuleId('badpw'),
      ...broker.env('core', 'wrong'),
    });
    started.push(core);
    await waitUntil('first samples', () => core.store.readings().length > 0, 10_000);
    expect(core.health()).toMatchObject({ status: 'degraded', mqtt: { connected: false } });
  });
});
