import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnDaemon, waitUntil } from './process';

export interface RegistryInfo {
  pid: number;
  port: number;
  /** `127.0.0.1:PORT`, the registry's name in image references. */
  host: string;
  url: string;
  username: string;
  password: string;
}

export interface RegistryOptions {
  dir: string;
  port: number;
  username?: string;
  password?: string;
}

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** Debian's docker-registry (distribution 2.8) behind htpasswd (bcrypt) authentication. */
export async function startRegistry(options: RegistryOptions): Promise<RegistryInfo> {
  mkdirSync(options.dir, { recursive: true });
  const username = options.username ?? 'growoff';
  const password = options.password ?? randomBytes(12).toString('hex');
  const htpasswd = join(options.dir, 'htpasswd');
  const line = execFileSync('htpasswd', ['-nbB', username, password], { encoding: 'utf8' }).trim();
  writeFileSync(htpasswd, line + '\n', { mode: 0o600 });
  const conf = join(options.dir, 'config.yml');
  writeFileSync(
    conf,
    `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${join(options.dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${options.port}
  secret: ${randomBytes(16).toString('hex')}
auth:
  htpasswd:
    realm: growoff-registry
    path: ${htpasswd}
`,
  );
  const pid = spawnDaemon(REGISTRY_BINARY, ['serve', conf], join(options.dir, 'registry.log'));
  const url = `http://127.0.0.1:${options.port}`;
  // Without credentials /v2/ answers 401 once the registry is up.
  await waitUntil(
    'docker-registry',
    async () => {
      try {
        return (await fetch(`${url}/v2/`)).status === 401;
      } catch {
        return false;
      }
    },
    20_000,
    pid,
  );
  return { pid, port: options.port, host: `127.0.0.1:${options.port}`, url, username, password };
}
