import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { freePort, stopProcess, type SshdInfo } from '@growoff/test-services';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asModule,
  bastionScript,
  runSsh,
  sshKeygen,
  startBastion,
  startModuleSshd,
  tempDir,
  withReverseForward,
  type Bastion,
} from './support';

describe('a bastion set up by tools/bastion', () => {
  let bastion: Bastion;
  let moduleSshd: SshdInfo;

  beforeAll(async () => {
    bastion = await startBastion('restrict');
    moduleSshd = await startModuleSshd('restrict');
  });

  afterAll(async () => {
    await stopProcess(bastion.sshd.pid);
    await stopProcess(moduleSshd.pid);
  });

  it('lets the module key listen on its own loopback port', async () => {
    await withReverseForward(asModule(bastion), bastion.remotePort, moduleSshd.port);
  });

  it('narrows only the tunnel account: other accounts keep local forwarding for ssh -J', () => {
    const effective = (user: string) =>
      execFileSync(
        '/usr/sbin/sshd',
        ['-T', '-f', bastion.sshd.configFile, '-C', `user=${user},host=engineer,addr=127.0.0.1`],
        {
          encoding: 'utf8',
        },
      );
    const tunnelAccount = effective(userInfo().username);
    expect(tunnelAccount).toMatch(/^allowtcpforwarding remote$/m);
    expect(tunnelAccount).toMatch(/^permitopen none$/m);
    expect(tunnelAccount).toMatch(/^gatewayports no$/m);
    expect(tunnelAccount).toMatch(/^permittty no$/m);
    expect(tunnelAccount).toMatch(/^exposeauthinfo yes$/m);
    expect(tunnelAccount).toMatch(/^forcecommand \S+growoff-bastion\.sh probe --authorized-keys \S+$/m);
    const engineer = effective('engineer');
    expect(engineer).toMatch(/^allowtcpforwarding yes$/m);
    expect(engineer).toMatch(/^forcecommand none$/m);
  });

  it('gives the module key no shell and runs none of its commands', async () => {
    const result = await runSsh([...asModule(bastion), 'echo SHELL-REACHED; id']);
    expect(result.stdout).not.toContain('SHELL-REACHED');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('only holds a GrowOff reverse tunnel');
    const tty = await runSsh(['-tt', ...asModule(bastion)]);
    expect(tty.code).not.toBe(0);
  });

  it('refuses the module key any local forward', async () => {
    for (const target of [
      `127.0.0.1:${bastion.sshd.port}`,
      `127.0.0.1:${moduleSshd.port}`,
      `localhost:${bastion.remotePort}`,
    ]) {
      const result = await runSsh(['-W', target, ...asModule(bastion)]);
      expect(result.code).toBe(255);
      expect(result.stderr).toMatch(/stdio forwarding failed|administratively prohibited|open failed/);
    }
  });

  it('refuses the module key a listen on any other port or address', async () => {
    const other = await freePort();
    for (const spec of [
      `localhost:${other}`,
      `127.0.0.1:${bastion.remotePort}`,
      `0.0.0.0:${bastion.remotePort}`,
      `${other}`,
    ]) {
      const result = await runSsh([
        '-N',
        '-o',
        'ExitOnForwardFailure=yes',
        '-R',
        `${spec}:127.0.0.1:${moduleSshd.port}`,
        ...asModule(bastion),
      ]);
      expect(result.code).toBe(255);
      expect(result.stderr).toMatch(/remote port forwarding failed/);
    }
  });
});

describe('tools/bastion add-key', () => {
  const dir = tempDir('add-key');
  const file = join(dir, 'authorized_keys');
  sshKeygen(join(dir, 'a'));
  sshKeygen(join(dir, 'b'));

  it('adds one narrow line per module and is idempotent', () => {
    const args = [
      'add-key',
      '--authorized-keys',
      file,
      '--module',
      'mod-a',
      '--port',
      '40100',
      '--public-key',
      join(dir, 'a.pub'),
    ];
    expect(bastionScript(args).trim()).toBe('updated');
    expect(bastionScript(args).trim()).toBe('unchanged');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^restrict,port-forwarding,permitlisten="localhost:40100",command="[^"]+ probe 40100" ssh-ed25519 \S+ growoff-module:mod-a$/,
    );
  });

  it('moves a module to a new port and refuses a port given to another module', () => {
    bastionScript([
      'add-key',
      '--authorized-keys',
      file,
      '--module',
      'mod-a',
      '--port',
      '40101',
      '--public-key',
      join(dir, 'a.pub'),
    ]);
    expect(bastionScript(['list', '--authorized-keys', file]).trim()).toBe('mod-a 40101');
    expect(() =>
      bastionScript([
        'add-key',
        '--authorized-keys',
        file,
        '--module',
        'mod-b',
        '--port',
        '40101',
        '--public-key',
        join(dir, 'b.pub'),
      ]),
    ).toThrow(/already given to mod-a/);
  });
});
