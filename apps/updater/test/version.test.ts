import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { topics } from '@growoff/protocol';
import { getService, jsonWhenUp, spawnBuiltApp } from '@growoff/test-services';
import { describe, expect, it } from 'vitest';
import { builtUpdaterEnv } from './support/built-updater';

const packageDir = join(import.meta.dirname, '..');

describe('the built updater (dist/main.js)', { timeout: 90_000 }, () => {
  it('reports its package.json version on /health and in its retained status under plain node, whatever npm_package_version says', async () => {
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    const dir = mkdtempSync(join(tmpdir(), 'updater-version-'));
    const env = await builtUpdaterEnv('version', dir);
    const moduleId = env.GROWOFF_MODULE_ID;
    const port = env.GROWOFF_UPDATER_HTTP_PORT;
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
      ...env,
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
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
