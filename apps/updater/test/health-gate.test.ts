import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  portAnswers,
  startMosquitto,
  stopProcess,
  waitUntil,
  type MosquittoInfo,
} from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdaterHarness } from './support/harness';

describe('the health gate', { timeout: 120_000 }, () => {
  let h: UpdaterHarness;
  let v1: string;

  beforeAll(async () => {
    h = await UpdaterHarness.create({
      env: { GROWOFF_HEALTH_TIMEOUT_S: '6', GROWOFF_PROBATION_S: '1', GROWOFF_UPDATE_LOCK_MAX_S: '4' },
    });
    v1 = h.images.build({ version: '1.0.0' });
    await h.startUpdater();
    await h.installed(v1, '1.0.0');
  }, 180_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('refuses a core that runs another version than the release names', async () => {
    const other = h.images.build({ version: '1.0.0' });
    const rolledBack = h.nextEvent('install.rolled_back', (e) => e.data?.image === other);
    await h.publish(other, '1.0.9');
    expect((await rolledBack).data).toMatchObject({ code: 'HEALTH_VERSION_MISMATCH' });
    expect(h.updater!.journal.app('core').failedImages).toContain(other);
    expect(await h.coreHealth()).toBe('1.0.0');
  });

  it('refuses a core whose /health stays degraded, unless its reasons are tolerated', async () => {
    const degraded = h.images.build({ version: '1.1.0', mode: 'degraded', reasons: ['sensors'] });
    const rolledBack = h.nextEvent('install.rolled_back', (e) => e.data?.image === degraded);
    await h.publish(degraded, '1.1.0');
    const event = await rolledBack;
    expect(event.data).toMatchObject({ code: 'HEALTH_DEGRADED' });
    expect(event.message).toContain('sensors');
    expect(await h.coreHealth()).toBe('1.0.0');

    await h.stopUpdater();
    await h.startUpdater({ GROWOFF_HEALTH_TOLERATE: 'sensors,hardware' });
    const tolerated = h.images.build({ version: '1.2.0', mode: 'degraded', reasons: ['sensors'] });
    const committed = h.nextEvent('install.committed', (e) => e.data?.image === tolerated);
    await h.publish(tolerated, '1.2.0');
    await committed;
    expect(h.updater!.status().current?.version).toBe('1.2.0');
  });

  it('bounds the update lock without holding its work queue, then updates', async () => {
    const locking = h.images.build({ version: '1.3.0', lockS: 600 });
    const locked = h.nextEvent('probation.passed', (e) => e.data?.image === locking);
    await h.publish(locking, '1.3.0');
    await locked;

    const after = h.images.build({ version: '1.4.0' });
    let overriddenAt: number | undefined;
    const off = h.updater!.onEvent((e) => {
      if (e.type === 'install.lock_overridden') overriddenAt ??= Date.now();
    });
    const waiting = h.nextEvent('install.waiting_lock');
    const overridden = h.nextEvent('install.lock_overridden');
    const committed = h.nextEvent('install.committed', (e) => e.data?.image === after);
    await h.publish(after, '1.4.0');
    const waitingAt = Date.now();
    await waiting;
    // The work queue is free while the lock holds: a check runs and returns at once.
    await h.updater!.check();
    expect(overriddenAt).toBeUndefined();
    expect(await h.coreHealth()).toBe('1.3.0');
    expect((await overridden).data).toMatchObject({ maxS: 4 });
    off();
    expect(overriddenAt! - waitingAt).toBeGreaterThanOrEqual(3500);
    await committed;
    expect(await h.coreHealth()).toBe('1.4.0');
  });
});

describe('a health gate that fails while the broker is down', { timeout: 150_000 }, () => {
  let h: UpdaterHarness;
  let broker: MosquittoInfo;
  let dir: string;
  let v1: string;
  let v2: string;

  beforeAll(async () => {
    // A broker of this test's own: it is stopped, the shared one never is.
    dir = mkdtempSync(join(tmpdir(), 'updater-broker-'));
    broker = await startMosquitto({ dir, port: await freePort() });
    h = await UpdaterHarness.create({
      mqttUrl: broker.url,
      env: { GROWOFF_HEALTH_TIMEOUT_S: '6', GROWOFF_PROBATION_S: '1' },
    });
    v1 = h.images.build({ version: '1.0.0' });
    v2 = h.images.build({ version: '2.0.0' });
    await h.startUpdater();
    await h.installed(v1, '1.0.0');
  }, 180_000);

  afterAll(async () => {
    await h?.cleanup();
    await stopProcess(broker.pid);
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not hold the outage against the image and installs it once the broker is back', async () => {
    const off = h.updater!.onEvent((e) => {
      if (e.type === 'download.completed') {
        off();
        process.kill(broker.pid, 'SIGKILL');
      }
    });
    const later = h.nextEvent('install.retry_later', (e) => e.data?.image === v2);
    await h.publish(v2, '2.0.0');
    const event = await later;
    expect(event.data?.reason).toContain('broker was down');
    expect(h.updater!.journal.app('core').failedImages).not.toContain(v2);
    await waitUntil('the old core answering', async () => (await h.coreHealth()) === '1.0.0', 30_000);
    expect(await portAnswers(broker.port)).toBe(false);

    const committed = h.nextEvent('install.committed', (e) => e.data?.image === v2, 90_000);
    broker = await startMosquitto({ dir, port: broker.port });
    await committed;
    expect(await h.coreHealth()).toBe('2.0.0');
  });
});
