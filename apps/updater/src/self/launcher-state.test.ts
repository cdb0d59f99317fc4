import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLauncherState, writeLauncherState } from './launcher-state';

describe('the launcher state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads what the launcher writes and skips what it does not know', () => {
    const path = join(dir, 'a.state');
    writeFileSync(path, 'current=r/u@sha256:1\nprevious=r/u@sha256:0\nfailed=r/u@sha256:2\nnoise\nother=x\n');
    expect(readLauncherState(path)).toEqual({
      current: 'r/u@sha256:1',
      previous: 'r/u@sha256:0',
      failed: 'r/u@sha256:2',
    });
    expect(readLauncherState(join(dir, 'missing.state'))).toEqual({});
  });

  it('writes only when it changes, in the launcher format', () => {
    const path = join(dir, 'b.state');
    expect(writeLauncherState(path, { current: 'r/u@sha256:1', previous: 'r/u@sha256:0' })).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('current=r/u@sha256:1\nprevious=r/u@sha256:0\n');
    expect(writeLauncherState(path, { current: 'r/u@sha256:1', previous: 'r/u@sha256:0' })).toBe(false);
  });
});
