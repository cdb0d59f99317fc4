import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { topics } from '@growoff/protocol';
import { freePort, getService, spawnBuiltApp } from '@growoff/test-services';
import { describe, expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

describe('the built tunnel (dist/main.js)', { timeout: 90_000 }, () => {
  it('prints and publishes in its retained status its package.json version under plain node, whatever npm_package_version says', async () => {
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    const moduleId = `tunnel-version-${randomBytes(4).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'tunnel-version-'));
    const sshd = getService('sshd');
    copyFileSync(sshd.clientKey, join(dir, 'tunnel_ed25519'));
    chmodSync(join(dir, 'tunnel_ed25519'), 0o600);
    const broker = getService('mosquitto').url;
    const watcher = await mqtt.connectAsync(broker);
    const statusTopic = topics.status(moduleId, 'tunnel');
    const published = new Promise<Record<string, unknown>>((resolve) =>
      watcher.on('message', (_topic, payload) => {
        const status = JSON.parse(payload.toString() || '{}') as Record<string, unknown>;
        if (status.state !== undefined && status.state !== 'offline') resolve(status);
      }),
    );
    await watcher.subscribeAsync(statusTopic);
    const app = spawnBuiltApp(packageDir, {
      GROWOFF_MODULE_ID: moduleId,
      GROWOFF_MQTT_URL: broker,
      GROWOFF_BASTION: `127.0.0.1:${sshd.port}`,
      GROWOFF_BASTION_USER: sshd.user,
      GROWOFF_BASTION_HOSTKEY: sshd.hostKeyFingerprint,
      GROWOFF_TUNNEL_KEY: join(dir, 'tunnel_ed25519'),
      GROWOFF_TUNNEL_REMOTE_PORT: String(await freePort()),
      GROWOFF_DATA_DIR: join(dir, 'data'),
      // What an npm script of another package would leave behind; the bundle must not read it.
      npm_package_version: '0.0.0-not-this-package',
    });
    try {
      await app.waitForLine(`@growoff/tunnel ${version} configuration`);
      expect(await published).toMatchObject({ version });
    } finally {
      await app.stop();
      await watcher.publishAsync(statusTopic, '', { retain: true });
      await watcher.endAsync();
    }
  });
});
