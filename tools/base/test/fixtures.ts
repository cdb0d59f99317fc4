import { createHash } from 'node:crypto';
import {
  cpSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const MODULE_CONF = {
  MODULE_ID: 'gw-test-0001',
  MQTT_URL: 'mqtts://module:pw@broker.example.invalid:8883',
  AWS_REGION: 'eu-central-1',
  ECR_REGISTRY: '123456789012.dkr.ecr.eu-central-1.amazonaws.com',
  CORE_IMAGE_REPO: '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/core',
  UPDATER_IMAGE:
    '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/updater@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  TUNNEL_IMAGE:
    '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/tunnel@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  TELEGRAF_IMAGE:
    '123456789012.dkr.ecr.eu-central-1.amazonaws.com/growoff/telegraf@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',
  TELEMETRY_URL: 'https://influx.example.invalid',
  TELEMETRY_ORG: 'growoff',
  BASTION: 'bastion.example.invalid:22',
  BASTION_USER: 'tunnel',
  BASTION_HOSTKEY: 'SHA256:uwhOuvTkw7ccGDBJh0Ykn0TeSVZ7OEfWDSxnMBUrQ2c',
  TUNNEL_REMOTE_PORT: '20001',
};

export const SECRETS = {
  'aws-credentials': '[default]\naws_access_key_id = AKIATEST\naws_secret_access_key = test-secret\n',
  tunnel_ed25519: '-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----\n',
  'telegraf-token': 'local-listener-token\n',
  'influx-token': 'cloud-influx-token\n',
};

/** A tools/base configuration folder: module.conf, secrets/ and release-keys/. */
export function writeConfig(dir: string, overrides: Record<string, string | undefined> = {}): void {
  const conf = { ...MODULE_CONF, ...overrides };
  const lines = Object.entries(conf)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  mkdirSync(join(dir, 'secrets'), { recursive: true });
  mkdirSync(join(dir, 'release-keys'), { recursive: true });
  writeFileSync(join(dir, 'module.conf'), `# test module\n${lines.join('\n')}\n`);
  for (const [name, content] of Object.entries(SECRETS)) writeFileSync(join(dir, 'secrets', name), content);
  writeFileSync(
    join(dir, 'release-keys', 'release-2026.pem'),
    '-----BEGIN PUBLIC KEY-----\nkey-2026\n-----END PUBLIC KEY-----\n',
  );
  writeFileSync(
    join(dir, 'release-keys', 'release-2027.pem'),
    '-----BEGIN PUBLIC KEY-----\nkey-2027\n-----END PUBLIC KEY-----\n',
  );
}

/**
 * The parts of a Debian root that `systemd-analyze verify --root` resolves: systemd's own units
 * (copied from this machine), /bin/sh, and docker.service with /usr/bin/docker. Docker is not installed in
 * the tree (on a module it comes from apt at first boot), so those two are stubs: verify only
 * needs the unit to load and the ExecStart binary to exist and be executable.
 */
export function addSystemdAndDockerStubs(root: string): void {
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  writeFileSync(
    join(root, 'usr/lib/systemd/system/docker.service'),
    '[Unit]\nDescription=Docker stub for verify\n[Service]\nExecStart=/usr/bin/docker\n',
  );
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/docker'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  // Merged /usr as on bookworm; the Telegraf unit runs /bin/sh.
  writeFileSync(join(root, 'usr/bin/sh'), '', { mode: 0o755 });
  symlinkSync('usr/bin', join(root, 'bin'));
}

export interface Entry {
  mode: string;
  uid: number;
  gid: number;
  mtimeMs: number;
  content: string;
}

/** Every path under dir with its mode, owner, mtime and a content hash (or link target). */
export function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (skip(path)) continue;
      const st = lstatSync(join(dir, path));
      const content = st.isSymbolicLink()
        ? `-> ${readlinkSync(join(dir, path))}`
        : st.isFile()
          ? createHash('sha256')
              .update(readFileSync(join(dir, path)))
              .digest('hex')
          : 'dir';
      out.set(path, {
        mode: (st.mode & 0o7777).toString(8),
        uid: st.uid,
        gid: st.gid,
        mtimeMs: st.mtimeMs,
        content,
      });
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return out;
}
