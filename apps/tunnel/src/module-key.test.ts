import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
