import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto } from './mosquitto';
import { freePort, stopProcess } from './process';

export interface SecureMosquittoOptions {
  /** Accounts in the broker's password file. */
  users: { username: string; password: string }[];
}

/** A private Mosquitto that wants a password AND TLS with a client certificate from its own CA. */
export interface SecureMosquitto {
  pid: number;
  port: number;
  /** `mqtts://127.0.0.1:<port>` */
  url: string;
  /** PEM files a client needs: the CA and a client certificate with its key. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** mqtt.js options of a test client that logs in as `username`. */
  clientOptions(
    username: string,
    password: string,
  ): { ca: Buffer; cert: Buffer; key: Buffer; username: string; password: string };
  /** The GROWOFF_MQTT_* variables of an app that logs in as `username`. */
  env(username: string, password: string): Record<string, string>;
  stop(): Promise<void>;
}

/** A throwaway CA with a server certificate for 127.0.0.1 and a client certificate. */
function makePki(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
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
    '/CN=growoff-test-ca',
  );
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'growoff-test-client'],
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

/** Starts a private Mosquitto on a free loopback port requiring a password and a client certificate. */
export async function startSecureMosquitto(options: SecureMosquittoOptions): Promise<SecureMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-secure-mosquitto-'));
  makePki(dir);
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const { username, password } of options.users) {
    execFileSync('mosquitto_passwd', ['-b', passwd, username, password], { stdio: 'ignore' });
  }
  // Mosquitto started as root drops to its own user, which must be able to read these test-only files.
  chmodSync(dir, 0o755);
  for (const f of ['passwd', 'server.key']) chmodSync(join(dir, f), 0o644);
  const port = await freePort();
  const { pid } = await startMosquitto({
    dir,
    port,
    extraConfig: [
      'allow_anonymous false',
      `password_file ${passwd}`,
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      'require_certificate true',
    ].join('\n'),
  });
  const files = {
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'client.crt'),
    keyFile: join(dir, 'client.key'),
  };
  const url = `mqtts://127.0.0.1:${port}`;
  return {
    pid,
    port,
    url,
    ...files,
    clientOptions: (username, password) => ({
      ca: readFileSync(files.caFile),
      cert: readFileSync(files.certFile),
      key: readFileSync(files.keyFile),
      username,
      password,
    }),
    env: (username, password) => ({
      GROWOFF_MQTT_URL: url,
      GROWOFF_MQTT_CA: files.caFile,
      GROWOFF_MQTT_CERT: files.certFile,
      GROWOFF_MQTT_KEY: files.keyFile,
      GROWOFF_MQTT_USERNAME: username,
      GROWOFF_MQTT_PASSWORD: password,
    }),
    stop: () => stopProcess(pid),
  };
}
