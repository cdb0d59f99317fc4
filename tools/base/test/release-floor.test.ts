import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSystemdAndDockerStubs, snapshot, writeConfig } from './fixtures';

const installer = resolve(dirname(fileURLToPath(import.meta.url)), '../install.sh');
const FLOOR = 'var/lib/growoff/updater/release-floor';

function install(root: string, config: string, ...more: string[]) {
  const r = spawnSync('bash', [installer, '--root', root, '--config', config, ...more], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('install.sh --release-floor', () => {
  let work: string;
  let root: string;
  let config: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'growoff-floor-'));
    root = join(work, 'root');
    config = join(work, 'config');
    writeConfig(config);
    addSystemdAndDockerStubs(root);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes no floor without the option', () => {
    expect(install(root, config).code).toBe(0);
    expect(existsSync(join(root, FLOOR))).toBe(false);
  });

  it('writes the floor, 0600, in the updater data folder where the updater reads it by default', () => {
    const r = install(root, config, '--release-floor', '120');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`changed /${FLOOR}\n1 changed\n`);
    expect(readFileSync(join(root, FLOOR), 'utf8')).toBe('120\n');
    expect((statSync(join(root, FLOOR)).mode & 0o777).toString(8)).toBe('600');
  });

  it('raises the floor but never lowers it, and a run without the option keeps it', () => {
    expect(install(root, config, '--release-floor', '150').stdout).toBe(`changed /${FLOOR}\n1 changed\n`);
    const lower = install(root, config, '--release-floor', '90');
    expect(lower.code).toBe(0);
    expect(lower.stdout).toBe(`kept /${FLOOR} at 150 (higher than 90)\n0 changed\n`);
    expect(install(root, config).stdout).toBe('0 changed\n');
    expect(readFileSync(join(root, FLOOR), 'utf8')).toBe('150\n');
  });

  it('refuses a floor that is not a whole number >= 1 before touching the root', () => {
    const target = mkdtempSync(join(work, 'untouched-'));
    for (const bad of ['0', '-1', 'abc', '1.5', '']) {
      const r = install(target, config, '--release-floor', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toBe(`install.sh: --release-floor must be a whole number >= 1, not '${bad}'\n`);
    }
    expect(snapshot(target).size).toBe(0);
  });

  it('replaces a floor file it cannot read as a number', () => {
    writeFileSync(join(root, FLOOR), 'garbage\n');
    expect(install(root, config, '--release-floor', '151').code).toBe(0);
    expect(readFileSync(join(root, FLOOR), 'utf8')).toBe('151\n');
  });
});
