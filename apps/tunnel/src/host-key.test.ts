import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINGERPRINT_PATTERN, matchesPinnedFingerprint, opensshFingerprint } from './host-key';

describe('host key fingerprints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'growoff-tunnel-hostkey-'));
  const file = join(dir, 'key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  const blob = Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1]!, 'base64');
  const printed = /(SHA256:\S+)/.exec(
    execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }),
  )![1]!;

  it('are computed exactly as ssh-keygen prints them', () => {
    expect(opensshFingerprint(blob)).toBe(printed);
    expect(printed).toMatch(FINGERPRINT_PATTERN);
  });

  it('match only a pinned key, among one or several pins', () => {
    const other = printed.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(matchesPinnedFingerprint(blob, [printed])).toBe(true);
    expect(matchesPinnedFingerprint(blob, [other, printed])).toBe(true);
    expect(matchesPinnedFingerprint(blob, [printed, other])).toBe(true);
    expect(matchesPinnedFingerprint(blob, [other])).toBe(false);
    expect(matchesPinnedFingerprint(blob, [''])).toBe(false);
    expect(matchesPinnedFingerprint(blob, [])).toBe(false);
  });
});
