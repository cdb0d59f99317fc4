import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writePasswordFile } from './password-file';

describe('writePasswordFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'broker-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes every password with mosquitto_passwd (no plaintext left)', async () => {
    const path = join(dir, 'passwd');
    await writePasswordFile(path, [
      { username: 'mod-1', password: 'secret-one' },
      { username: 'mod-2', password: 'secret-two' },
    ]);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('secret');
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0]),
    ).toEqual(['mod-1', 'mod-2']);
    expect(text).toMatch(/^mod-1:\$7\$/m);
  });

  it('refuses a username that cannot stand for %u in a topic', async () => {
    await expect(
      writePasswordFile(join(dir, 'bad'), [{ username: 'a/b', password: 'x' }]),
    ).rejects.toMatchObject({ code: 'BROKER_BAD_USERNAME' });
  });

  it('refuses the same user twice', async () => {
    await expect(
      writePasswordFile(join(dir, 'dup'), [
        { username: 'a', password: 'x' },
        { username: 'a', password: 'y' },
      ]),
    ).rejects.toMatchObject({ code: 'BROKER_DUPLICATE_USER' });
  });
});
