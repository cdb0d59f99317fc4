import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { portAnswers, spawnDaemon, waitUntil } from './process';

export interface SshdInfo {
  pid: number;
  port: number;
  host: string;
  user: string;
  /** A private key (Ed25519) whose public half is in `authorizedKeys`. */
  clientKey: string;
  authorizedKeys: string;
  hostKey: string;
  /** The host key's fingerprint as OpenSSH prints it: `SHA256:…`. */
  hostKeyFingerprint: string;
  configFile: string;
}

export interface SshdOptions {
  dir: string;
  port: number;
  /** Extra sshd_config lines (placed before any Match block). */
  extraConfig?: string;
}

export const SSHD_BINARY = '/usr/sbin/sshd';

export function fingerprintOf(publicKeyFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' });
  const match = /(SHA256:\S+)/.exec(out);
  if (!match?.[1]) throw new Error(`no fingerprint in: ${out}`);
  return match[1];
}

function keygen(file: string, comment: string): void {
  if (!existsSync(file))
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** OpenSSH's sshd on a high loopback port with its own host key, keys only. */
export async function startSshd(options: SshdOptions): Promise<SshdInfo> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  // sshd's privilege separation needs this directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(options.dir, 'ssh_host_ed25519_key');
  const clientKey = join(options.dir, 'client_ed25519');
  keygen(hostKey, 'growoff-test-host');
  keygen(clientKey, 'growoff-test-client');
  const authorizedKeys = join(options.dir, 'authorized_keys');
  if (!existsSync(authorizedKeys))
    writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const configFile = join(options.dir, 'sshd_config');
  writeFileSync(
    configFile,
    [
      `Port ${options.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(options.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      // The test folders live under /tmp, which StrictModes would refuse.
      'StrictModes no',
      'LogLevel ERROR',
      options.extraConfig ?? '',
    ].join('\n') + '\n',
  );
  const pid = spawnDaemon(SSHD_BINARY, ['-D', '-e', '-f', configFile], join(options.dir, 'sshd.log'));
  await waitUntil('sshd', () => portAnswers(options.port), 15_000, pid);
  return {
    pid,
    port: options.port,
    host: '127.0.0.1',
    user: userInfo().username,
    clientKey,
    authorizedKeys,
    hostKey,
    hostKeyFingerprint: fingerprintOf(`${hostKey}.pub`),
    configFile,
  };
}
