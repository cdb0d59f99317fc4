import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { loadModuleKey } from './module-key';

describe('the module key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-tunnel-key-'));
  const keygen = (name: string, ...args: string[]) => {
    const file = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-N', '', '-f', file, ...args]);
    return file;
  };

  it('loads an Ed25519 key with the public line and fingerprint ssh-keygen gives', () => {
    const file = keygen('ed', '-t', 'ed25519');
    const key = loadModuleKey(file);
    expect(execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' })).toContain(key.publicKey);
    expect(execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' })).toContain(
      key.fingerprint,
    );
  });

  it('refuses a missing file, naming GROWOFF_TUNNEL_KEY, rather than making a new identity', () => {
    expect(() => loadModuleKey(join(dir, 'absent'))).toThrow(
      expect.objectContaining({
        code: 'TUNNEL_KEY_UNREADABLE',
        message: expect.stringContaining('GROWOFF_TUNNEL_KEY'),
      }),
    );
  });

  it('refuses a key of another type', () => {
    const file = keygen('ec', '-t', 'ecdsa');
    expect(() => loadModuleKey(file)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_NOT_ED25519' }));
  });

  it('refuses an Ed25519 PKCS#8 PEM key, which ssh2 cannot use either', () => {
    const file = join(dir, 'pkcs8.pem');
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(file, pem);
    expect(ssh2.utils.parseKey(Buffer.from(pem))).toBeInstanceOf(Error);
    expect(() => loadModuleKey(file)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_UNREADABLE' }));
  });

  it('refuses an RSA key in legacy PEM as not Ed25519', () => {
    const file = keygen('rsa', '-t', 'rsa', '-b', '2048', '-m', 'PEM');
    expect(() => loadModuleKey(file)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_NOT_ED25519' }));
  });

  it('refuses a passphrase-protected key as not an unencrypted private key', () => {
    const file = join(dir, 'locked');
    execFileSync('ssh-keygen', ['-q', '-N', 'secret', '-t', 'ed25519', '-f', file]);
    expect(() => loadModuleKey(file)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_UNREADABLE' }));
  });

  it('refuses a public key where the private key belongs', () => {
    const file = keygen('pub', '-t', 'ed25519');
    expect(() => loadModuleKey(`${file}.pub`)).toThrow(
      expect.objectContaining({ code: 'TUNNEL_KEY_NOT_ED25519' }),
    );
  });

  it('refuses a file that is no key at all', () => {
    const file = join(dir, 'garbage');
    writeFileSync(file, 'not a key\n');
    expect(() => loadModuleKey(file)).toThrow(expect.objectContaining({ code: 'TUNNEL_KEY_UNREADABLE' }));
  });
});
