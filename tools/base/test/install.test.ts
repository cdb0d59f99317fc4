import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ignoredBy } from '@growoff/config';
import { ensureDebianPackages } from '@growoff/test-services';
import { CoreEnv } from '../../../apps/core/src/config/env-config';
import { TunnelEnv } from '../../../apps/tunnel/src/config';
import { UpdaterEnv } from '../../../apps/updater/src/config/updater-config';
import { MODULE_CONF, SECRETS, addSystemdAndDockerStubs, snapshot, writeConfig } from './fixtures';

const installer = resolve(dirname(fileURLToPath(import.meta.url)), '../install.sh');
const UNITS = ['growoff-ecr-login', 'growoff-updater'];

function install(root: string, config: string) {
  const r = spawnSync('bash', [installer, '--root', root, '--config', config], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function modeOf(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

function envFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('tools/base install.sh against a folder', () => {
  let work: string;
  let root: string;
  let config: string;
  let firstRun: ReturnType<typeof install>;

  beforeAll(() => {
    ensureDebianPackages([{ file: '/usr/bin/systemd-analyze', package: 'systemd' }]);
    work = mkdtempSync(join(tmpdir(), 'growoff-base-'));
    root = join(work, 'root');
    config = join(work, 'config');
    writeConfig(config);
    addSystemdAndDockerStubs(root);
    // Raspberry Pi OS has an i2c group; the core joins it by number.
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\ni2c:x:998:pi\ndocker:x:995:\n');
    writeFileSync(join(root, 'etc/timezone'), 'Europe/Berlin\n');
    firstRun = install(root, config);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('installs the Docker daemon configuration with bounded logs and live restore', () => {
    expect(firstRun.stderr).toBe('');
    expect(firstRun.code).toBe(0);
    const daemon = JSON.parse(readFileSync(join(root, 'etc/docker/daemon.json'), 'utf8'));
    expect(daemon).toMatchObject({
      'live-restore': true,
      'log-driver': 'local',
      'log-opts': { 'max-size': '10m' },
    });
    expect(modeOf(join(root, 'etc/docker/daemon.json'))).toBe('644');
  });

  it('installs and enables the ECR login and the one unit that runs a container, the updater launcher', () => {
    for (const unit of UNITS) {
      const path = join(root, `etc/systemd/system/${unit}.service`);
      const text = readFileSync(path, 'utf8');
      expect(modeOf(path), unit).toBe('644');
      // Wants, not Requires: a restart of Docker must not stop the unit.
      expect(text, unit).not.toMatch(/^Requires=/m);
      expect(text, unit).toMatch(/^Wants=network-online\.target docker\.service/m);
      expect(text, unit).toMatch(/^After=network-online\.target docker\.service/m);
      expect(text, unit).toMatch(
        unit === 'growoff-ecr-login' ? /^Restart=on-failure$/m : /^Restart=always$/m,
      );
      const link = join(root, `etc/systemd/system/multi-user.target.wants/${unit}.service`);
      expect(readlinkSync(link)).toBe(`/etc/systemd/system/${unit}.service`);
    }
    const updater = readFileSync(join(root, 'etc/systemd/system/growoff-updater.service'), 'utf8');
    expect(updater).toMatch(/^ExecStart=\/usr\/local\/lib\/growoff\/updater-launcher\.sh$/m);
    expect(updater).toMatch(/After=.*growoff-ecr-login\.service/);
    expect(modeOf(join(root, 'usr/local/lib/growoff/updater-launcher.sh'))).toBe('755');
    // Telegraf and the tunnel are the updater's: no unit starts a second one.
    const units = readdirSync(join(root, 'etc/systemd/system')).filter((n) => n.startsWith('growoff-'));
    expect(units.sort()).toEqual(['growoff-ecr-login.service', 'growoff-updater.service']);
  });

  it('starts the launcher on the configured updater image, and leaves the state the updater rewrites alone', () => {
    const state = join(root, 'var/lib/growoff/updater/launcher.state');
    expect(readFileSync(state, 'utf8')).toBe(`current=${MODULE_CONF.UPDATER_IMAGE}\n`);
    expect(modeOf(state)).toBe('600');
    const committed = 'current=registry.example/growoff/updater@sha256:' + 'd'.repeat(64) + '\n';
    writeFileSync(state, committed);
    const r = install(root, config);
    expect(r.stdout).toBe('0 changed\n');
    expect(readFileSync(state, 'utf8')).toBe(committed);
    writeFileSync(state, `current=${MODULE_CONF.UPDATER_IMAGE}\n`);
  });

  it('removes the Telegraf and tunnel units an earlier version installed', () => {
    const system = join(root, 'etc/systemd/system');
    for (const unit of ['growoff-telegraf', 'growoff-tunnel']) {
      writeFileSync(join(system, `${unit}.service`), '[Service]\nExecStart=/usr/bin/docker run x\n');
      symlinkSync(
        `/etc/systemd/system/${unit}.service`,
        join(system, `multi-user.target.wants/${unit}.service`),
      );
    }
    const r = install(root, config);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed /etc/systemd/system/growoff-telegraf.service\n');
    expect(r.stdout).toContain(
      'removed /etc/systemd/system/multi-user.target.wants/growoff-tunnel.service\n',
    );
    expect(r.stdout).toMatch(/^4 changed$/m);
    for (const unit of ['growoff-telegraf', 'growoff-tunnel']) {
      expect(existsSync(join(system, `${unit}.service`))).toBe(false);
      expect(existsSync(join(system, `multi-user.target.wants/${unit}.service`))).toBe(false);
    }
  });

  it('gives the updater what the core needs: /dev/i2c-1, /sys/bus/w1 and its data volume', () => {
    const env = envFile(join(root, 'etc/growoff/updater.env'));
    expect(env).toMatchObject({
      GROWOFF_MODULE_ID: MODULE_CONF.MODULE_ID,
      GROWOFF_MQTT_URL: MODULE_CONF.MQTT_URL,
      GROWOFF_CHANNEL: 'stable',
      GROWOFF_CORE_IMAGE_REPO: MODULE_CONF.CORE_IMAGE_REPO,
      GROWOFF_RELEASE_KEYS: '/etc/growoff/release-keys',
      GROWOFF_CORE_DEVICES: '/dev/i2c-1',
      GROWOFF_CORE_GROUPS: '998',
      GROWOFF_CORE_VOLUMES: '/sys/bus/w1:/sys/bus/w1:ro',
      GROWOFF_DOCKER_GID: '995',
      GROWOFF_DOCKER_DATA_ROOT: '/data',
      GROWOFF_TELEGRAF_IMAGE_REPO: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/telegraf',
      GROWOFF_TELEGRAF_IMAGE: MODULE_CONF.TELEGRAF_IMAGE,
      GROWOFF_TUNNEL_IMAGE_REPO: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/tunnel',
      GROWOFF_TUNNEL_IMAGE: MODULE_CONF.TUNNEL_IMAGE,
      GROWOFF_UPDATER_IMAGE_REPO: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/updater',
      AWS_SHARED_CREDENTIALS_FILE: '/etc/growoff/secrets/aws-credentials',
    });
    expect(env.GROWOFF_UPDATER_IMAGE, 'the launcher state names the updater image').toBeUndefined();
    expect(envFile(join(root, 'etc/growoff/core.env'))).toMatchObject({
      GROWOFF_MODULE_ID: MODULE_CONF.MODULE_ID,
      GROWOFF_MQTT_URL: MODULE_CONF.MQTT_URL,
      GROWOFF_HAL: 'i2c',
      GROWOFF_HTTP_HOST: '127.0.0.1',
      GROWOFF_HTTP_PORT: '8080',
      GROWOFF_DATA_DIR: '/data',
      // The host's zone, the default of the core's schedules (the container itself has none).
      GROWOFF_TIMEZONE: 'Europe/Berlin',
    });
    const tunnel = envFile(join(root, 'etc/growoff/tunnel.env'));
    expect(tunnel).toMatchObject({
      GROWOFF_BASTION: MODULE_CONF.BASTION,
      GROWOFF_BASTION_HOSTKEY: MODULE_CONF.BASTION_HOSTKEY,
      GROWOFF_TUNNEL_KEY: '/run/secrets/tunnel_ed25519',
      GROWOFF_TUNNEL_REMOTE_PORT: '20001',
    });
    // Each app warns at start of a GROWOFF_ variable it does not read: the installer writes none.
    for (const [app, schema] of [
      ['core', CoreEnv],
      ['updater', UpdaterEnv],
      ['tunnel', TunnelEnv],
    ] as const) {
      const written = envFile(join(root, `etc/growoff/${app}.env`));
      expect(Object.keys(written).filter((name) => name.startsWith('GROWOFF_')).length, app).toBeGreaterThan(
        4,
      );
      expect(ignoredBy(schema, written), app).toEqual([]);
    }
    expect(envFile(join(root, 'etc/growoff/telegraf.env'))).toMatchObject({
      GROWOFF_TELEGRAF_TOKEN: 'local-listener-token',
      GROWOFF_CLOUD_INFLUX_URL: MODULE_CONF.TELEMETRY_URL,
      GROWOFF_CLOUD_INFLUX_ORG: 'growoff',
      GROWOFF_CLOUD_INFLUX_BUCKET: 'growoff',
      GROWOFF_CLOUD_INFLUX_TOKEN: 'cloud-influx-token',
    });
    for (const app of ['updater', 'tunnel']) {
      expect(envFile(join(root, `etc/growoff/${app}.env`)), app).toMatchObject({
        GROWOFF_TELEMETRY_URL: 'http://127.0.0.1:8186',
        GROWOFF_TELEMETRY_API: 'v2',
        GROWOFF_TELEMETRY_TOKEN: 'local-listener-token',
      });
    }
  });

  it('writes secrets and env files 0600 in a 0711 folder, app data folders owned by the image user', () => {
    const expected: [string, string, number][] = [
      ['etc/growoff/secrets', '711', 0],
      ['etc/growoff/secrets/aws-credentials', '600', 0],
      ['etc/growoff/secrets/tunnel_ed25519', '600', 1000],
      ['etc/growoff/secrets/mqtt', '750', 0],
      ['etc/growoff/updater.env', '600', 0],
      ['etc/growoff/tunnel.env', '600', 0],
      ['etc/growoff/telegraf.env', '600', 0],
      ['etc/growoff/core.env', '600', 0],
      ['etc/growoff/base.env', '644', 0],
      ['etc/growoff/release-keys/release-2026.pem', '644', 0],
      ['usr/local/lib/growoff/ecr-login.sh', '755', 0],
      ['usr/local/lib/growoff/updater-launcher.sh', '755', 0],
      ['var/lib/growoff/updater/launcher.state', '600', 0],
      ['var/lib/growoff/updater', '700', 0],
      ['var/lib/growoff/core', '700', 1000],
      ['var/lib/growoff/tunnel', '700', 1000],
    ];
    const asRoot = process.getuid?.() === 0;
    for (const [path, mode, uid] of expected) {
      expect(modeOf(join(root, path)), path).toBe(mode);
      if (asRoot) expect(statSync(join(root, path)).uid, path).toBe(uid);
    }
    expect(readFileSync(join(root, 'etc/growoff/secrets/aws-credentials'), 'utf8')).toBe(
      SECRETS['aws-credentials'],
    );
    expect(readFileSync(join(root, 'etc/growoff/secrets/tunnel_ed25519'), 'utf8')).toBe(
      SECRETS.tunnel_ed25519,
    );
  });

  it('logs Docker in to the configured ECR registry for the first pull', () => {
    const script = readFileSync(join(root, 'usr/local/lib/growoff/ecr-login.sh'), 'utf8');
    expect(script).toMatch(
      /aws ecr get-login-password --region "\$AWS_REGION" \|\s+docker login --username AWS --password-stdin "\$GROWOFF_ECR_REGISTRY"/,
    );
    expect(envFile(join(root, 'etc/growoff/base.env'))).toMatchObject({
      AWS_REGION: MODULE_CONF.AWS_REGION,
      GROWOFF_ECR_REGISTRY: MODULE_CONF.ECR_REGISTRY,
      AWS_SHARED_CREDENTIALS_FILE: '/etc/growoff/secrets/aws-credentials',
    });
  });

  it('changes nothing when run a second time', () => {
    const before = snapshot(root);
    const again = install(root, config);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('0 changed\n');
    expect(snapshot(root)).toEqual(before);
  });

  it('has units that systemd-analyze verify accepts without a word', () => {
    const units = UNITS.map((u) => join(root, `etc/systemd/system/${u}.service`));
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, ...units], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('removes a release key dropped from the configuration and updates a changed value', () => {
    const rotated = join(work, 'rotated');
    writeConfig(rotated, { CHANNEL: 'beta' });
    rmSync(join(rotated, 'release-keys/release-2026.pem'));
    const r = install(root, rotated);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'removed /etc/growoff/release-keys/release-2026.pem\nchanged /etc/growoff/updater.env\n2 changed\n',
    );
    expect(existsSync(join(root, 'etc/growoff/release-keys/release-2026.pem'))).toBe(false);
    expect(existsSync(join(root, 'etc/growoff/release-keys/release-2027.pem'))).toBe(true);
    expect(envFile(join(root, 'etc/growoff/updater.env')).GROWOFF_CHANNEL).toBe('beta');
    expect(modeOf(join(root, 'etc/growoff/updater.env'))).toBe('600');
    expect(lstatSync(join(root, 'etc/growoff/updater.env')).isFile()).toBe(true);
  });

  it('refuses a configuration missing a required value, naming it, before touching the root', () => {
    const bad = join(work, 'bad');
    writeConfig(bad, { BASTION_HOSTKEY: undefined });
    const target = mkdtempSync(join(work, 'untouched-'));
    const r = install(target, bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('install.sh: module.conf: BASTION_HOSTKEY is required\n');
    expect(snapshot(target).size).toBe(0);
  });

  it('refuses an image by tag, which could change under the module', () => {
    const bad = join(work, 'tagged');
    writeConfig(bad, { TUNNEL_IMAGE: 'registry.example/growoff/tunnel:latest' });
    const target = mkdtempSync(join(work, 'untouched-'));
    const r = install(target, bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'install.sh: module.conf: TUNNEL_IMAGE must be an image by digest (repository@sha256:…)\n',
    );
    expect(snapshot(target).size).toBe(0);
  });

  it('refuses a value with spaces, which env files cannot carry the same way', () => {
    const bad = join(work, 'spaces');
    writeConfig(bad, { MQTT_URL: 'mqtt://a b' });
    const r = install(mkdtempSync(join(work, 'untouched-')), bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MQTT_URL must not contain spaces');
  });
});

describe('tools/base install.sh: the module identity (broker credentials, client certificate, bastion pins)', () => {
  const PASSWORD = 'pw-Sup3r$ecret#9';
  const KEY = '-----BEGIN PRIVATE KEY-----\nmodule-client-key-material\n-----END PRIVATE KEY-----\n';
  const CERT = '-----BEGIN CERTIFICATE-----\nmodule-client-cert\n-----END CERTIFICATE-----\n';
  const CA = '-----BEGIN CERTIFICATE-----\nfleet-ca\n-----END CERTIFICATE-----\n';
  const NEXT_PIN = 'SHA256:QLQ7ZW5xk0x4pw6RY1MEXINSNLLII1GLlNfumH8qfws';
  const PINS = `${MODULE_CONF.BASTION_HOSTKEY},${NEXT_PIN}`;
  let work: string;
  let root: string;
  let config: string;
  let run: ReturnType<typeof install>;

  /** A configuration with the module's own identity: user and password, certificate, two pins. */
  function identityConfig(dir: string, overrides: Record<string, string | undefined> = {}): string {
    writeConfig(dir, {
      MQTT_URL: 'mqtts://broker.example.invalid:8883',
      MQTT_USERNAME: 'gw-test-0001',
      BASTION_HOSTKEY: PINS,
      ...overrides,
    });
    writeFileSync(join(dir, 'secrets/mqtt-password'), `${PASSWORD}\n`);
    writeFileSync(join(dir, 'secrets/mqtt-client.key'), KEY);
    writeFileSync(join(dir, 'secrets/mqtt-client.crt'), CERT);
    writeFileSync(join(dir, 'secrets/mqtt-ca.pem'), CA);
    return dir;
  }

  const log = (r: ReturnType<typeof install>) => `${r.stdout}${r.stderr}`;

  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('owners are set only as root: run this test as root');
    work = mkdtempSync(join(tmpdir(), 'growoff-base-identity-'));
    root = join(work, 'root');
    mkdirSync(root);
    config = identityConfig(join(work, 'config'));
    run = install(root, config);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('gives every app the broker user, password and TLS files, and the tunnel every bastion pin', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const identity = {
      GROWOFF_MQTT_URL: 'mqtts://broker.example.invalid:8883',
      GROWOFF_MQTT_USERNAME: 'gw-test-0001',
      GROWOFF_MQTT_PASSWORD: PASSWORD,
      GROWOFF_MQTT_CA: '/run/secrets/mqtt/ca.pem',
      GROWOFF_MQTT_CERT: '/run/secrets/mqtt/client.crt',
      GROWOFF_MQTT_KEY: '/run/secrets/mqtt/client.key',
    };
    for (const app of ['updater', 'core', 'tunnel'])
      expect(envFile(join(root, `etc/growoff/${app}.env`)), app).toMatchObject(identity);
    expect(envFile(join(root, 'etc/growoff/tunnel.env')).GROWOFF_BASTION_HOSTKEY).toBe(PINS);
    // The updater's app specs bind this folder at /run/secrets/mqtt (apps/updater's app-spec test
    // reads that path from this script), so no app gets it twice through GROWOFF_CORE_VOLUMES.
    expect(envFile(join(root, 'etc/growoff/updater.env')).GROWOFF_CORE_VOLUMES).not.toContain('secrets/mqtt');
    expect(readFileSync(join(root, 'etc/growoff/secrets/mqtt/client.key'), 'utf8')).toBe(KEY);
    expect(readFileSync(join(root, 'etc/growoff/secrets/mqtt/client.crt'), 'utf8')).toBe(CERT);
    expect(readFileSync(join(root, 'etc/growoff/secrets/mqtt/ca.pem'), 'utf8')).toBe(CA);
  });

  it('keeps them root-owned: env files 0600, the key 0640 to the apps group, the folder 0750', () => {
    const expected: [string, string, number, number][] = [
      ['etc/growoff/updater.env', '600', 0, 0],
      ['etc/growoff/core.env', '600', 0, 0],
      ['etc/growoff/tunnel.env', '600', 0, 0],
      ['etc/growoff/secrets/mqtt', '750', 0, 1000],
      ['etc/growoff/secrets/mqtt/client.key', '640', 0, 1000],
      ['etc/growoff/secrets/mqtt/client.crt', '644', 0, 0],
      ['etc/growoff/secrets/mqtt/ca.pem', '644', 0, 0],
    ];
    for (const [path, mode, uid, gid] of expected) {
      const st = statSync(join(root, path));
      expect({ path, mode: modeOf(join(root, path)), uid: st.uid, gid: st.gid }).toEqual({
        path,
        mode,
        uid,
        gid,
      });
    }
  });

  it('never prints a secret, neither when installing nor when refusing one', () => {
    expect(log(run)).not.toContain(PASSWORD);
    expect(log(run)).not.toContain('module-client-key-material');
    const spaced = identityConfig(join(work, 'spaced'));
    writeFileSync(join(spaced, 'secrets/mqtt-password'), 'two words\n');
    const refused = install(mkdtempSync(join(work, 'untouched-')), spaced);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'install.sh: secrets/mqtt-password must not contain spaces, quotes or backslashes (env files cannot carry them the same way)\n',
    );
    expect(log(refused)).not.toContain('two words');
  });

  it('removes the TLS files and variables dropped from the configuration, and changes nothing on a second run', () => {
    expect(install(root, config).stdout).toBe('0 changed\n');
    const plain = identityConfig(join(work, 'plain'));
    for (const file of ['mqtt-client.key', 'mqtt-client.crt', 'mqtt-ca.pem'])
      rmSync(join(plain, 'secrets', file));
    const r = install(root, plain);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed /etc/growoff/secrets/mqtt/client.key\n');
    expect(existsSync(join(root, 'etc/growoff/secrets/mqtt/client.key'))).toBe(false);
    const tunnel = envFile(join(root, 'etc/growoff/tunnel.env'));
    expect(tunnel.GROWOFF_MQTT_PASSWORD).toBe(PASSWORD);
    expect(Object.keys(tunnel).filter((k) => /^GROWOFF_MQTT_(CA|CERT|KEY)$/.test(k))).toEqual([]);
  });

  it.each([
    [
      { BASTION_HOSTKEY: `${MODULE_CONF.BASTION_HOSTKEY},MD5:aa` },
      'BASTION_HOSTKEY must be OpenSSH SHA256: fingerprints',
    ],
    [
      { BASTION_HOSTKEY: `${MODULE_CONF.BASTION_HOSTKEY},` },
      'BASTION_HOSTKEY must be OpenSSH SHA256: fingerprints',
    ],
    [{ MQTT_USERNAME: undefined }, 'secrets/mqtt-password is given but module.conf has no MQTT_USERNAME'],
  ])('refuses %o before touching the root', (overrides, message) => {
    const bad = identityConfig(mkdtempSync(join(work, 'bad-')), overrides);
    const target = mkdtempSync(join(work, 'untouched-'));
    const r = install(target, bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(snapshot(target).size).toBe(0);
  });

  it('refuses a client certificate without its key, before touching the root', () => {
    const bad = identityConfig(join(work, 'no-key'));
    rmSync(join(bad, 'secrets/mqtt-client.key'));
    const target = mkdtempSync(join(work, 'untouched-'));
    const r = install(target, bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the client certificate needs both its certificate and its key');
    expect(snapshot(target).size).toBe(0);
  });
});
