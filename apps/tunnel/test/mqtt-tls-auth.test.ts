import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { topics } from '@growoff/protocol';
import {
  spawnApp,
  type SpawnedApp,
  startSecureMosquitto,
  TopicWatch,
  type SecureMosquitto,
} from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, uniqueModuleId } from './support';

const packageDir = resolve(import.meta.dirname, '..');

describe('the tunnel (dist/main.js) on a broker that wants a password and a client certificate', () => {
  let broker: SecureMosquitto;
  let watcher: TopicWatch;
  const apps: SpawnedApp[] = [];
  const dir = tempDir('tls');
  const moduleKey = join(dir, 'module_ed25519');

  beforeAll(async () => {
    // The entry production runs; built here so the test never runs a stale bundle.
    execFileSync('pnpm', ['exec', 'tsup', '--silent'], { cwd: packageDir, stdio: 'ignore' });
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'growoff-tunnel-tls',
      '-f',
      moduleKey,
    ]);
    broker = await startSecureMosquitto({ users: [{ username: 'tunnel', password: 'right-password' }] });
    watcher = await TopicWatch.connect(broker.url, broker.clientOptions('tunnel', 'right-password'));
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.kill();
    await watcher?.close();
    await broker?.stop();
  });

  /** The tunnel, closed (no bastion is contacted until an open request), talking to the secure broker. */
  async function startTunnel(password: string): Promise<{ app: SpawnedApp; status: string }> {
    const moduleId = uniqueModuleId('tls');
    const status = topics.status(moduleId, 'tunnel');
    await watcher.watch(status);
    const app = spawnApp(
      'dist/main.js',
      {
        GROWOFF_MODULE_ID: moduleId,
        ...broker.env('tunnel', password),
        GROWOFF_BASTION: '127.0.0.1:9',
        GROWOFF_BASTION_HOSTKEY: `SHA256:${'A'.repeat(43)}`,
        GROWOFF_TUNNEL_KEY: moduleKey,
        GROWOFF_TUNNEL_REMOTE_PORT: '40022',
        GROWOFF_DATA_DIR: join(dir, moduleId),
      },
      { cwd: packageDir },
    );
    apps.push(app);
    return { app, status };
  }

  it('connects with the CA, client certificate and credentials from the environment: online', async () => {
    const { app, status } = await startTunnel('right-password');
    await watcher.waitFor(status, (s) => s.state === 'online', app.exited);
    expect(app.output()).toContain('GROWOFF_MQTT_PASSWORD=***');
    expect(app.output()).not.toContain('right-password');
  });

  it('is refused with a wrong password: not online, and it keeps running', async () => {
    const { app, status } = await startTunnel('wrong-password');
    await app.waitForLine('MQTT: Connection refused: Not authorized');
    expect(watcher.last(status)).toBeUndefined();
    expect(app.running).toBe(true);
    expect(app.output()).not.toContain('wrong-password');
  });
});
