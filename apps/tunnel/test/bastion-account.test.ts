import { spawn, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fingerprintOf, freePort, portAnswers, stopProcess, waitUntil } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BastionSession } from '../src/bastion-session';
import {
  addModuleKey,
  BASTION_SCRIPT,
  descendantsOf,
  loginArgs,
  runSsh,
  signalAll,
  sshKeygen,
  tempDir,
  uniqueModuleId,
  withReverseForward,
} from './support';

/**
 * The bastion as its README sets it up, as root: a real tunnel account (not the test's own user),
 * the script installed root-owned, the sshd settings from `sshd-config`, `add-key` run as root, and
 * sshd's default StrictModes and AuthorizedKeysFile (read as the account).
 */
describe('a bastion set up as root for a real tunnel account', () => {
  const account = `gotun${Math.random().toString(36).slice(2, 10)}`;
  const home = `/home/${account}`;
  const authorizedKeys = `${home}/.ssh/authorized_keys`;
  const moduleId = uniqueModuleId('account');
  let dir: string;
  let script: string;
  let moduleKey: string;
  let handKey: string;
  let sshdPid: number;
  let sshdPort: number;
  let remotePort: number;
  let uid: number;
  let target: Server;
  let targetPort: number;

  const bastion = (...args: string[]) => execFileSync(script, args, { encoding: 'utf8' });
  const asAccount = (key: string) => loginArgs(sshdPort, key, account);
  /** add-key as root, as the README runs it. */
  const addKey = () => addModuleKey(authorizedKeys, moduleId, remotePort, `${moduleKey}.pub`, script);

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test sets up a bastion account: run it as root');
    dir = tempDir('account');
    chmodSync(dir, 0o755);
    // 1. The account: a shell that runs the forced command; '*' rather than a locked password,
    // because this test sshd runs without PAM, which would refuse a locked account.
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '--password', '*', account]);
    uid = Number(execFileSync('id', ['-u', account], { encoding: 'utf8' }).trim());
    execFileSync('install', ['-d', '-m', '700', '-o', account, '-g', account, `${home}/.ssh`]);
    // 2. The script, root-owned where the account can run it.
    mkdirSync(join(dir, 'lib'), { mode: 0o755 });
    script = join(dir, 'lib/growoff-bastion.sh');
    copyFileSync(BASTION_SCRIPT, script);
    chmodSync(script, 0o755);
    // 3. sshd with the script's settings for the account, and sshd's own defaults otherwise.
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    sshKeygen(hostKey);
    sshdPort = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${sshdPort}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'UsePAM no',
        'LogLevel VERBOSE',
        bastion('sshd-config', '--user', account, '--client-alive-interval', '1'),
      ].join('\n'),
    );
    execFileSync('/usr/sbin/sshd', ['-t', '-f', config]);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], {
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child.unref();
    sshdPid = child.pid!;
    await waitUntil('the bastion sshd', () => portAnswers(sshdPort), 15_000, sshdPid);
    // What the module's forward leads to: a server that says who it is.
    target = createServer((socket) => {
      // The session's close may reset a connection the forward still holds: a reset is no failure here.
      socket.on('error', () => undefined);
      socket.end('module-side\n');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as { port: number }).port;
    // 4. The module's key, added by root.
    moduleKey = join(dir, 'module_ed25519');
    sshKeygen(moduleKey);
    handKey = join(dir, 'hand_ed25519');
    sshKeygen(handKey);
    remotePort = await freePort();
    addKey();
  });

  afterAll(async () => {
    target?.close();
    if (sshdPid) {
      const sessions = descendantsOf(sshdPid);
      signalAll([sshdPid, ...sessions], 'SIGKILL');
      await stopProcess(sshdPid, 2000);
    }
    // --force: the account's session processes, killed with sshd above, may not be reaped yet.
    execFileSync('userdel', ['--force', '--remove', account], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('add-key run as root leaves authorized_keys to the account (mode 600), and repairs a root-owned one', () => {
    const st = statSync(authorizedKeys);
    expect({ uid: st.uid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid, mode: '600' });
    // What the earlier version left behind: root-owned, mode 600, unreadable by the account.
    chownSync(authorizedKeys, 0, 0);
    chmodSync(authorizedKeys, 0o600);
    expect(addKey().trim()).toBe('unchanged');
    expect(statSync(authorizedKeys).uid).toBe(uid);
    expect((statSync(authorizedKeys).mode & 0o777).toString(8)).toBe('600');
  });

  it("lets a real sshd accept the module key for the account's reverse forward, and runs the probe through it", async () => {
    await withReverseForward(asAccount(moduleKey), remotePort, targetPort);
    await waitUntil('the forward to close', async () => !(await portAnswers(remotePort)), 10_000);
    // The tunnel app's own session: forward, then the end-to-end probe the ForceCommand runs.
    const session = await BastionSession.connect({
      host: '127.0.0.1',
      port: sshdPort,
      username: account,
      privateKey: readFileSync(moduleKey),
      hostKeyFingerprints: [fingerprintOf(join(dir, 'ssh_host_ed25519_key.pub'))],
      keepaliveIntervalMs: 1000,
      keepaliveCountMax: 3,
      connectTimeoutMs: 10_000,
      localHost: '127.0.0.1',
      localPort: targetPort,
    });
    try {
      expect(await session.forward(remotePort)).toBe(remotePort);
      await session.probe(10_000);
    } finally {
      await session.close();
    }
  });

  it('gives the module key no shell and runs none of its commands', async () => {
    const exec = await runSsh([...asAccount(moduleKey), 'echo SHELL-REACHED; id']);
    expect(exec.stdout).not.toContain('SHELL-REACHED');
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain('only holds a GrowOff reverse tunnel');
    const shell = await runSsh(['-tt', ...asAccount(moduleKey)]);
    expect(shell.code).not.toBe(0);
    expect(shell.stdout).not.toContain('$');
  });

  it('refuses the module key a local forward (-L and -W)', async () => {
    const w = await runSsh(['-W', `127.0.0.1:${targetPort}`, ...asAccount(moduleKey)]);
    expect(w.code).toBe(255);
    expect(w.stderr).toMatch(/stdio forwarding failed|administratively prohibited|open failed/);
    const local = await freePort();
    const l = spawn(
      'ssh',
      [
        '-N',
        '-o',
        'BatchMode=yes',
        '-L',
        `127.0.0.1:${local}:127.0.0.1:${targetPort}`,
        ...asAccount(moduleKey),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      await waitUntil('the local listener', () => portAnswers(local), 10_000, l.pid);
      // The listener is ssh's own; what it forwards to must be refused by the bastion.
      const got = await new Promise<string>((resolve) => {
        let data = '';
        const socket = connect(local, '127.0.0.1');
        socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', () => resolve(data));
      });
      expect(got).toBe('');
    } finally {
      l.kill();
    }
  });

  it('gives a key added by hand without command= no shell either', async () => {
    appendFileSync(authorizedKeys, readFileSync(`${handKey}.pub`, 'utf8'));
    const exec = await runSsh([...asAccount(handKey), 'echo SHELL-REACHED']);
    expect(exec.stdout).not.toContain('SHELL-REACHED');
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain('only holds a GrowOff reverse tunnel');
    // Nor the probe: the key has no port of its own.
    const probe = await runSsh([...asAccount(handKey), `growoff-probe ${'a'.repeat(32)}`]);
    expect(probe.stdout).not.toContain('GROWOFF-PROBE');
    expect(probe.code).not.toBe(0);
  });
});
