import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { topics } from '@growoff/protocol';
import { freePort, getService, jsonWhenUp, spawnBuiltApp } from '@growoff/test-services';
import { describe, expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

describe('the built updater (dist/main.js)', { timeout: 90_000 }, () => {
  it('reports its package.json version on /health and in its retained status under plain node, whatever npm_package_version says', async () => {
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    const id = randomBytes(4).toString('hex');
    const moduleId = `updater-version-${id}`;
    const dir = mkdtempSync(join(tmpdir(), 'updater-version-'));
    mkdirSync(join(dir, 'keys'));
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'keys', 'release.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const port = await freePort();
    const broker = getService('mosquitto').url;
    const watcher = await mqtt.connectAsync(broker);
    const statusTopic = topics.status(moduleId, 'updater');
    const online = new Promise<Record<string, unknown>>((resolve) =>
      watcher.on('message', (_topic, payload) => {
        const status = JSON.parse(payload.toString() || '{}') as Record<string, unknown>;
        if (status.state === 'online') resolve(status);
      }),
    );
    await watcher.subscribeAsync(statusTopic);
    const app = spawnBuiltApp(packageDir, {
      GROWOFF_MODULE_ID: moduleId,
      GROWOFF_MQTT_URL: broker,
      GROWOFF_UPDATER_HTTP_PORT: String(port),
      GROWOFF_DOCKER_HOST: `unix://${getService('docker').socket}`,
      GROWOFF_RELEASE_KEYS: join(dir, 'keys'),
      GROWOFF_CORE_IMAGE_REPO: `${getService('registry').host}/updater-version-${id}/core`,
      // Nothing listens there: the first check fails and is retried later, /health still answers.
      GROWOFF_ECR_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'updater-version-test',
      AWS_SECRET_ACCESS_KEY: 'updater-version-test',
      GROWOFF_DATA_DIR: join(dir, 'data'),
      GROWOFF_CORE_CONTAINER: `updater-version-core-${id}`,
      GROWOFF_TELEGRAF_CONTAINER: `updater-version-telegraf-${id}`,
      GROWOFF_MANAGED_BY: `updater-version-${id}`,
      // What an npm script of another package would leave behind; the bundle must not read it.
      npm_package_version: '0.0.0-not-this-package',
    });
    try {
      await app.waitForLine(`growoff-updater ${version} starting`);
      expect(await jsonWhenUp(`http://127.0.0.1:${port}/health`)).toMatchObject({ version });
      expect(await online).toMatchObject({ version });
    } finally {
      await app.stop();
      await watcher.publishAsync(statusTopic, '', { retain: true });
      await watcher.endAsync();
    }
  });
});
