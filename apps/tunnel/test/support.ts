import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import {
  freePort,
  portAnswers,
  startSshd,
  stopProcess,
  waitUntil,
  type SshdInfo,
} from '@growoff/test-services';
import type { BastionSessionOptions } from '../src/bastion-session';
import type { TunnelSnapshot, TunnelSupervisor, TunnelSupervisorOptions } from '../src/tunnel-supervisor';

export const BASTION_SCRIPT = resolve(import.meta.dirname, '../../../tools/bastion/growoff-bastion.sh');

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `growoff-tunnel-${label}-`));
}

export function uniqueModuleId(label: string): string {
  return `tunnel-${label}-${Math.random().toString(36).slice(2, 10)}`;
}

export function sshKeygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'growoff-tunnel-test', '-f', file]);
}

export function bastionScript(args: string[]): string {
  return execFileSync(BASTION_SCRIPT, args, { encoding: 'utf8' });
}

/** `add-key` of the bastion script (or of an installed copy of it): its output, `updated` or `unchanged`. */
export function addModuleKey(
  authorizedKeys: string,
  moduleId: string,
  port: number,
  publicKey: string,
  script = BASTION_SCRIPT,
): string {
  return execFileSync(
    script,
    [
      'add-key',
      '--authorized-keys',
      authorizedKeys,
      '--module',
      moduleId,
      '--port',
      String(port),
      '--public-key',
      publicKey,
    ],
    { encoding: 'utf8' },
  );
}

export interface Bastion {
  dir: string;
  sshd: SshdInfo;
  remotePort: number;
  moduleKey: string;
  moduleId: string;
  /** sshd_config lines, to restart the same bastion on the same port. */
  extraConfig: string;
}

/**
 * A private OpenSSH bastion set up by tools/bastion: the tunnel account's settings from
 * `sshd-config`, and the module's key added with `add-key` for one loopback port.
 */
export async function startBastion(label: string, clientAliveIntervalS = 1): Promise<Bastion> {
  const dir = tempDir(`${label}-bastion`);
  const moduleId = uniqueModuleId(label);
  const moduleKey = join(dir, 'module_ed25519');
  sshKeygen(moduleKey);
  const extraConfig = bastionScript([
    'sshd-config',
    '--user',
    userInfo().username,
    '--authorized-keys',
    join(dir, 'authorized_keys'),
    '--client-alive-interval',
    String(clientAliveIntervalS),
    '--client-alive-count-max',
    '2',
  ]);
  const sshd = await startSshd({ dir, port: await freePort(), extraConfig });
  const remotePort = await freePort();
  addModuleKey(sshd.authorizedKeys, moduleId, remotePort, `${moduleKey}.pub`);
  return { dir, sshd, remotePort, moduleKey, moduleId, extraConfig };
}

/** Restarts a bastion's sshd on its port after it was killed, with the same keys and settings. */
export async function restartBastion(bastion: Bastion): Promise<void> {
  bastion.sshd = await startSshd({
    dir: bastion.dir,
    port: bastion.sshd.port,
    extraConfig: bastion.extraConfig,
  });
}

/** The module's own SSH server, which the tunnel forwards to. */
export async function startModuleSshd(label: string): Promise<SshdInfo> {
  return startSshd({ dir: tempDir(`${label}-module`), port: await freePort() });
}

/** Every process descended from `pid` (sshd's per-connection monitors and session processes). */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Kills a private sshd with every session it forked (a bare SIGTERM leaves sessions running). */
export async function killBastion(bastion: Bastion): Promise<void> {
  const sessions = descendantsOf(bastion.sshd.pid);
  signalAll([bastion.sshd.pid, ...sessions], 'SIGKILL');
  await stopProcess(bastion.sshd.pid, 2000);
  for (const pid of sessions) await stopProcess(pid, 2000);
}

export function sessionOptions(
  bastion: Bastion,
  localPort: number,
  overrides: Partial<BastionSessionOptions> = {},
): BastionSessionOptions {
  return {
    host: '127.0.0.1',
    port: bastion.sshd.port,
    username: userInfo().username,
    privateKey: readFileSync(bastion.moduleKey),
    hostKeyFingerprints: [bastion.sshd.hostKeyFingerprint],
    keepaliveIntervalMs: 300,
    keepaliveCountMax: 2,
    connectTimeoutMs: 5000,
    localHost: '127.0.0.1',
    localPort,
    ...overrides,
  };
}

export function supervisorOptions(
  bastion: Bastion,
  localPort: number,
  overrides: Partial<TunnelSupervisorOptions> = {},
): TunnelSupervisorOptions {
  return {
    session: sessionOptions(bastion, localPort),
    remotePort: bastion.remotePort,
    maxTtlS: 3600,
    alwaysOn: false,
    probeIntervalMs: 0,
    probeTimeoutMs: 2000,
    probeFailuresMax: 3,
    backoffMinMs: 100,
    backoffMaxMs: 500,
    portBusyRetries: 2,
    ...overrides,
  };
}

/** Resolves with the first status (current or coming) that satisfies `predicate`. */
export function statusWhere(
  supervisor: TunnelSupervisor,
  predicate: (s: TunnelSnapshot) => boolean,
  timeoutMs = 15_000,
): Promise<TunnelSnapshot> {
  if (predicate(supervisor.snapshot)) return Promise.resolve(supervisor.snapshot);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      supervisor.off('status', onStatus);
      reject(
        new Error(`no matching status within ${timeoutMs} ms; last: ${JSON.stringify(supervisor.snapshot)}`),
      );
    }, timeoutMs);
    const onStatus = (s: TunnelSnapshot) => {
      if (!predicate(s)) return;
      clearTimeout(timer);
      supervisor.off('status', onStatus);
      resolve(s);
    };
    supervisor.on('status', onStatus);
  });
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs OpenSSH's `ssh` client in batch mode. */
export function runSsh(args: string[], timeoutMs = 15_000): Promise<SshResult> {
  return new Promise((resolvePromise) => {
    execFile(
      'ssh',
      ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', ...args],
      { timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 255) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** `ssh` arguments of an engineer on the bastion: through the tunnel's loopback port into the module's sshd. */
function engineerArgs(moduleSshd: SshdInfo, remotePort: number): string[] {
  const knownHosts = join(tempDir('known'), 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${remotePort} ${readFileSync(`${moduleSshd.hostKey}.pub`, 'utf8')}`);
  return [
    '-p',
    String(remotePort),
    '-i',
    moduleSshd.clientKey,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    `${moduleSshd.user}@127.0.0.1`,
  ];
}

/** `ssh` as an engineer on the bastion: through the tunnel's loopback port into the module's sshd. */
export function sshThroughTunnel(
  moduleSshd: SshdInfo,
  remotePort: number,
  command: string,
): Promise<SshResult> {
  return runSsh([...engineerArgs(moduleSshd, remotePort), command]);
}

export interface InteractiveSsh {
  /** Sends a line to the remote `cat` and resolves with the line it echoes. */
  say(line: string): Promise<string>;
  end(): void;
}

/** An engineer's long-lived session through the tunnel into the module's sshd: a remote `cat`. */
export function interactiveThroughTunnel(moduleSshd: SshdInfo, remotePort: number): InteractiveSsh {
  const ssh = spawn(
    'ssh',
    ['-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', ...engineerArgs(moduleSshd, remotePort), 'cat'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let buffered = '';
  let stderr = '';
  const waiters: ((line: string | Error) => void)[] = [];
  ssh.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  ssh.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      waiters.shift()?.(line);
    }
  });
  ssh.once('exit', (code) => {
    for (const waiter of waiters.splice(0)) waiter(new Error(`ssh exited (${code}): ${stderr}`));
  });
  return {
    say: (line) =>
      new Promise((resolvePromise, reject) => {
        if (ssh.exitCode !== null) {
          reject(new Error(`ssh exited (${ssh.exitCode}): ${stderr}`));
          return;
        }
        waiters.push((got) => (got instanceof Error ? reject(got) : resolvePromise(got)));
        ssh.stdin.write(`${line}\n`);
      }),
    end: () => {
      ssh.stdin.end();
      ssh.kill();
    },
  };
}

/** `ssh` options for logging in to a bastion on `port` as `user` with `key`. */
export function loginArgs(port: number, key: string, user: string): string[] {
  return [
    '-p',
    String(port),
    '-i',
    key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    `${user}@127.0.0.1`,
  ];
}

/** `ssh` options for logging in to the bastion with the module's own key. */
export function asModule(bastion: Bastion): string[] {
  return loginArgs(bastion.sshd.port, bastion.moduleKey, userInfo().username);
}

/**
 * OpenSSH's `ssh -N -R localhost:remotePort:127.0.0.1:targetPort` with `login` (see `loginArgs`);
 * resolves once the bastion listens, and ends the ssh when `use` is done.
 */
export async function withReverseForward(
  login: string[],
  remotePort: number,
  targetPort: number,
  use: () => Promise<void> = async () => {},
): Promise<void> {
  const ssh = spawn(
    'ssh',
    [
      '-N',
      '-o',
      'BatchMode=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-o',
      'LogLevel=ERROR',
      '-R',
      `localhost:${remotePort}:127.0.0.1:${targetPort}`,
      ...login,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => ssh.once('exit', resolve));
  try {
    await waitUntil('the reverse forward', () => portAnswers(remotePort), 10_000, ssh.pid);
    await use();
  } finally {
    ssh.kill();
    await exited;
  }
}
