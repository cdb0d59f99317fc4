import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, stopProcess, waitUntil } from '@growoff/test-services';
import { topics } from '@growoff/protocol';
import type { RunningCore } from '../src/core';
import { jsonOf, startTestCore, TestClient, uniqueModuleId } from './helpers';

/** A throwaway CA with a server certificate for 127.0.0.1 and a client certificate. */
async function makePki(dir: string): Promise<void> {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=core-test-ca',
  );
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'core-test-client'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      ...(name === 'server' ? ['-extfile', 'san.ext'] : []),
    );
  }
}

describe('MQTT over TLS with client certificates and a password', () => {
  let dir: string;
  let port: number;
  let pid: number;
  const started: RunningCore[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'core-tls-'));
    await makePki(dir);
    execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'core', 'right-password'], {
      stdio: 'ignore',
    });
    // Mosquitto started as root drops to its own user, which must be able to read these test-only files.
    await chmod(dir, 0o755);
    for (const f of ['passwd', 'server.key']) await chmod(join(dir, f), 0o644);
    port = await freePort();
    pid = (
      await startMosquitto({
        dir,
        port,
        extraConfig: [
          'allow_anonymous false',
          `password_file ${join(dir, 'passwd')}`,
          `cafile ${join(dir, 'ca.crt')}`,
          `certfile ${join(dir, 'server.crt')}`,
          `keyfile ${join(dir, 'server.key')}`,
          'require_certificate true',
        ].join('\n'),
      })
    ).pid;
  });

  afterAll(async () => {
    for (const core of started) await core.stop();
    if (pid) await stopProcess(pid);
  });

  const tlsEnv = (password: string) => ({
    GROWOFF_MQTT_URL: `mqtts://127.0.0.1:${port}`,
    GROWOFF_MQTT_CA: join(dir, 'ca.crt'),
    GROWOFF_MQTT_CERT: join(dir, 'client.crt'),
    GROWOFF_MQTT_KEY: join(dir, 'client.key'),
    GROWOFF_MQTT_USERNAME: 'core',
    GROWOFF_MQTT_PASSWORD: password,
  });

  it('connects with the CA, client certificate and credentials from the environment', async () => {
    const moduleId = uniqueModuleId('tls');
    const core = await startTestCore({ GROWOFF_MODULE_ID: moduleId, ...tlsEnv('right-password') });
    started.push(core);
    const watcher = await TestClient.connect(`mqtts://127.0.0.1:${port}`, {
      ca: await readFile(join(dir, 'ca.crt')),
      cert: await readFile(join(dir, 'client.crt')),
      key: await readFile(join(dir, 'client.key')),
      username: 'core',
      password: 'right-password',
    });
    await watcher.subscribe(topics.status(moduleId, 'core'));
    expect(jsonOf(await watcher.waitFor(() => true, 'status over TLS'))).toMatchObject({ state: 'online' });
    await watcher.close();
  });

  it('keeps running, disconnected, when the broker refuses its password', async () => {
    const core = await startTestCore({ GROWOFF_MODULE_ID: uniqueModuleId('badpw'), ...tlsEnv('wrong') });
    started.push(core);
    await waitUntil('first samples', () => core.store.readings().length > 0, 10_000);
    expect(core.health()).toMatchObject({ status: 'degraded', mqtt: { connected: false } });
  });
});
