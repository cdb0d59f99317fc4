import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSecureMosquitto, TopicWatch, type SecureMosquitto } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeConfig } from './fixtures';

const here = dirname(fileURLToPath(import.meta.url));
const installer = resolve(here, '../install.sh');
const tunnelDir = resolve(here, '../../../apps/tunnel');
/** The uid and gid the app images run as (`node`). */
const APP_ID = 1000;

/**
 * The identity install.sh provisions, used by a real app: the tunnel's entry (built as its image is),
 * run as the image user with the environment of the installed tunnel.env, its TLS files read where
 * the container's read-only mount puts them (here, the installed folder itself), logs in to a
 * broker that wants both a password and a client certificate from its CA.
 */
describe('tools/base install.sh: an app logs in to the broker with the identity the installer provisioned', () => {
  const moduleId = `gw-identity-${Math.random().toString(36).slice(2, 10)}`;
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  let work: string;
  let root: string;
  let broker: SecureMosquitto;
  let watcher: TopicWatch;
  let tunnel: ChildProcess | undefined;
  let output = '';
  // A private build of the tunnel's entry: the tunnel's own tests rebuild (and clean) dist/ meanwhile.
  // Inside the package, so that its npm dependencies resolve.
  const bundleDir = join(tunnelDir, '.tmp', `identity-${moduleId}`);

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('runs the app as the image user: run this test as root');
    execFileSync('pnpm', ['exec', 'tsup', '--silent', '--out-dir', bundleDir], {
      cwd: tunnelDir,
      stdio: 'ignore',
    });
    broker = await startSecureMosquitto({ users: [{ username: moduleId, password }] });
    watcher = await TopicWatch.connect(broker.url, broker.clientOptions(moduleId, password));
    work = mkdtempSync(join(tmpdir(), 'growoff-base-identity-app-'));
    // The image user must reach the installed files, as it does through the container's mounts.
    chmodSync(work, 0o755);
    root = join(work, 'root');
    mkdirSync(root, { mode: 0o755 });
    const config = join(work, 'config');
    writeConfig(config, { MODULE_ID: moduleId, MQTT_URL: broker.url, MQTT_USERNAME: moduleId });
    writeFileSync(join(config, 'secrets/mqtt-password'), `${password}\n`);
    copyFileSync(broker.caFile, join(config, 'secrets/mqtt-ca.pem'));
    copyFileSync(broker.certFile, join(config, 'secrets/mqtt-client.crt'));
    copyFileSync(broker.keyFile, join(config, 'secrets/mqtt-client.key'));
    rmSync(join(config, 'secrets/tunnel_ed25519'));
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-f',
      join(config, 'secrets/tunnel_ed25519'),
    ]);
    const r = spawnSync('bash', [installer, '--root', root, '--config', config], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain(password);
  }, 120_000);

  afterAll(async () => {
    tunnel?.kill('SIGKILL');
    await watcher?.close();
    await broker?.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it('goes online as the image user (uid 1000) with the installed credentials, CA and client certificate', async () => {
    const env: Record<string, string> = {};
    for (const line of readFileSync(join(root, 'etc/growoff/tunnel.env'), 'utf8').split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const [name, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      // The container's mounts: /etc/growoff/secrets/mqtt at /run/secrets/mqtt, the tunnel key file.
      env[name] = value
        .replace(/^\/run\/secrets\/mqtt\//, `${root}/etc/growoff/secrets/mqtt/`)
        .replace(/^\/run\/secrets\/tunnel_ed25519$/, `${root}/etc/growoff/secrets/tunnel_ed25519`);
    }
    expect(env).toMatchObject({
      GROWOFF_MQTT_USERNAME: moduleId,
      GROWOFF_MQTT_PASSWORD: password,
      GROWOFF_MQTT_CA: `${root}/etc/growoff/secrets/mqtt/ca.pem`,
      GROWOFF_MQTT_KEY: `${root}/etc/growoff/secrets/mqtt/client.key`,
    });
    // No Telegraf here: telemetry goes to the file sink in a data folder of the image user's.
    for (const name of Object.keys(env)) if (name.startsWith('GROWOFF_TELEMETRY_')) delete env[name];
    const data = join(work, 'data');
    mkdirSync(data);
    execFileSync('chown', [`${APP_ID}:${APP_ID}`, data]);
    env.GROWOFF_DATA_DIR = data;

    const status = `growoff/v1/modules/${moduleId}/tunnel/status`;
    await watcher.watch(status);
    tunnel = spawn(process.execPath, [join(bundleDir, 'main.js')], {
      cwd: tunnelDir,
      env: { PATH: process.env.PATH, ...env },
      uid: APP_ID,
      gid: APP_ID,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tunnel.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    tunnel.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolvePromise) =>
      tunnel!.once('exit', (code) => resolvePromise(`exit ${code}: ${output}`)),
    );
    await watcher.waitFor(status, (s) => s.state === 'online', exited);
    expect(output).toContain('GROWOFF_MQTT_PASSWORD=***');
    expect(output).not.toContain(password);
  }, 60_000);
});
