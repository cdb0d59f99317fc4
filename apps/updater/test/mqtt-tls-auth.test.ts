import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics } from '@growoff/protocol';
import {
  spawnApp,
  type SpawnedApp,
  freePort,
  getService,
  startSecureMosquitto,
  TopicWatch,
  type SecureMosquitto,
} from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('the updater (dist/main.js) on a broker that wants a password and a client certificate', () => {
  let broker: SecureMosquitto;
  let watcher: TopicWatch;
  const apps: SpawnedApp[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'updater-tls-'));

  beforeAll(async () => {
    // The entry production runs; built here so the test never runs a stale bundle.
    execFileSync('pnpm', ['exec', 'tsup', '--silent'], { cwd: packageDir, stdio: 'ignore' });
    broker = await startSecureMosquitto({ users: [{ username: 'updater', password: 'right-password' }] });
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'release.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    watcher = await TopicWatch.connect(broker.url, broker.clientOptions('updater', 'right-password'));
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.kill();
    await watcher?.close();
    await broker?.stop();
  });

  async function startUpdater(
    password: string,
  ): Promise<{ app: SpawnedApp; moduleId: string; httpPort: number }> {
    const moduleId = `updater-tls-${randomBytes(4).toString('hex')}`;
    const httpPort = await freePort();
    await watcher.watch(topics.status(moduleId, 'updater'));
    const app = spawnApp(
      'dist/main.js',
      {
        GROWOFF_MODULE_ID: moduleId,
        ...broker.env('updater', password),
        GROWOFF_DOCKER_HOST: getService('docker').host,
        GROWOFF_ECR_ENDPOINT: 'http://127.0.0.1:9',
        GROWOFF_RELEASE_KEYS: dir,
        GROWOFF_CORE_IMAGE_REPO: '127.0.0.1:5000/growoff/core-tls-test',
        GROWOFF_CORE_CONTAINER: `updater-tls-core-${moduleId}`,
        GROWOFF_DATA_DIR: join(dir, moduleId),
        GROWOFF_UPDATER_HTTP_PORT: String(httpPort),
      },
      { cwd: packageDir },
    );
    apps.push(app);
    return { app, moduleId, httpPort };
  }

  const statusOf = (moduleId: string) => watcher.last(topics.status(moduleId, 'updater'));

  it('connects with the CA, client certificate and credentials from the environment: online', async () => {
    const { app, moduleId } = await startUpdater('right-password');
    await watcher.waitFor(topics.status(moduleId, 'updater'), (s) => s.state === 'online', app.exited);
    expect(statusOf(moduleId)).toMatchObject({ state: 'online' });
    expect(app.output()).toContain('GROWOFF_MQTT_PASSWORD=***');
    expect(app.output()).not.toContain('right-password');
  });

  it('is refused with a wrong password: not online, and it keeps running', async () => {
    const { app, moduleId, httpPort } = await startUpdater('wrong-password');
    await app.waitForLine('REST on http');
    await app.waitForLine('MQTT: Connection refused: Not authorized');
    expect(statusOf(moduleId)).toBeUndefined();
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    expect(health.ok).toBe(true);
    expect(app.running).toBe(true);
    expect(app.output()).not.toContain('wrong-password');
  });
});
