import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, getService, jsonWhenUp, spawnBuiltApp, type SpawnedApp } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, uniqueModuleId } from './helpers';

const packageDir = join(import.meta.dirname, '..');
let app: SpawnedApp | undefined;

afterEach(async () => {
  await app?.stop();
  app = undefined;
});

describe('the built core (dist/main.js)', { timeout: 90_000 }, () => {
  it('reports its package.json version on /health and in its retained status under plain node, whatever npm_package_version says', async () => {
    const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    const moduleId = uniqueModuleId('version');
    const port = await freePort();
    const mosquitto = getService('mosquitto');
    const watcher = await TestClient.connect(mosquitto.url);
    try {
      await watcher.subscribe(topics.status(moduleId, 'core'));
      app = spawnBuiltApp(packageDir, {
        GROWOFF_MODULE_ID: moduleId,
        GROWOFF_MQTT_URL: mosquitto.url,
        GROWOFF_HAL: 'sim',
        GROWOFF_HTTP_PORT: String(port),
        GROWOFF_DATA_DIR: await mkdtemp(join(tmpdir(), 'core-version-')),
        // What an npm script of another package would leave behind; the bundle must not read it.
        npm_package_version: '0.0.0-not-this-package',
      });
      await app.waitForLine(`growoff core ${version} starting`);
      expect(await jsonWhenUp(`http://127.0.0.1:${port}/health`)).toMatchObject({ version });
      const online = await watcher.waitFor(
        (m) => (m.json() as { state?: string }).state === 'online',
        'core online',
      );
      expect(online.json()).toMatchObject({ version });
    } finally {
      await app?.stop();
      await watcher.client.publishAsync(topics.status(moduleId, 'core'), '', { retain: true });
      await watcher.close();
    }
  });
});
