import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon, waitUntil } from './process';

export interface DockerInfo {
  pid: number;
  socket: string;
  /** For DOCKER_HOST and dockerode: `unix:///…/docker.sock`. */
  host: string;
  /** The local base image made from this machine's Node. */
  nodeBaseImage: string;
}

export interface DockerOptions {
  dir: string;
}

export const DOCKERD_BINARY = '/usr/sbin/dockerd';
export const NODE_BASE_IMAGE = 'growoff/node-base:local';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

/** A Docker engine with no bridge network and no iptables rules: containers use host or none. */
export async function startDockerd(options: DockerOptions): Promise<DockerInfo> {
  mkdirSync(options.dir, { recursive: true });
  const socket = join(options.dir, 'docker.sock');
  const host = `unix://${socket}`;
  const pid = spawnDaemon(
    DOCKERD_BINARY,
    [
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--host',
      host,
      '--data-root',
      join(options.dir, 'data'),
      '--exec-root',
      join(options.dir, 'exec'),
      '--pidfile',
      join(options.dir, 'dockerd.pid'),
    ],
    join(options.dir, 'dockerd.log'),
  );
  await waitUntil(
    'dockerd',
    () => {
      if (!existsSync(socket)) return false;
      try {
        execFileSync('docker', ['-H', host, 'version', '--format', '{{.Server.Version}}'], {
          stdio: 'ignore',
        });
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    pid,
  );
  ensureNodeBaseImage(host);
  return { pid, socket, host, nodeBaseImage: NODE_BASE_IMAGE };
}

/** Imports the base image made from this machine's Node unless the engine has it already. */
export function ensureNodeBaseImage(host: string): void {
  const env = { ...process.env, DOCKER_HOST: host };
  try {
    execFileSync('docker', ['image', 'inspect', NODE_BASE_IMAGE], { stdio: 'ignore', env });
    return;
  } catch {
    execFileSync('bash', [join(repoRoot, 'tools/docker/build-node-base-image.sh'), NODE_BASE_IMAGE], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
  }
}
