import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changesetPackages, checkChangesets } from '../src/changeset-check';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/check-changesets.ts');
const tsx = resolve(here, '../../../node_modules/.bin/tsx');
let repo: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
}

function git(...args: string[]): void {
  execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
}

function commit(message: string): void {
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', message);
}

/** A scratch workspace: an app, a lib and the Telegraf image on `main`, then a branch `change` to work on. */
beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'changeset-check-'));
  git('init', '-q', '-b', 'main');
  write('pnpm-workspace.yaml', 'packages:\n  - apps/*\n  - libs/*\n  - docker/telegraf\n');
  write('docker/telegraf/package.json', JSON.stringify({ name: '@growoff/telegraf', version: '1.0.0' }));
  write('docker/telegraf/telegraf.conf', '[agent]\n');
  write('apps/core/package.json', JSON.stringify({ name: '@growoff/core', version: '1.0.0' }));
  write('apps/core/src/main.ts', 'export {};\n');
  write('libs/hal/package.json', JSON.stringify({ name: '@growoff/hal', version: '1.0.0' }));
  write('libs/hal/src/index.ts', 'export {};\n');
  write('.changeset/README.md', 'changesets\n');
  write('README.md', 'workspace\n');
  commit('start');
  git('checkout', '-qb', 'change');
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe('checkChangesets', () => {
  it('finds a package changed without a changeset, and passes once a changeset names it', () => {
    write('apps/core/src/main.ts', 'export const x = 1;\n');
    commit('core change');
    expect(checkChangesets(repo, 'main')).toEqual({
      changed: ['@growoff/core'],
      covered: [],
      missing: ['@growoff/core'],
    });
    write('.changeset/core-x.md', "---\n'@growoff/core': patch\n---\n\nx\n");
    expect(checkChangesets(repo, 'main').missing).toEqual([]);
  });

  it('asks for each changed package: a changeset for one does not cover another, nor do files outside packages need one', () => {
    write('apps/core/src/main.ts', 'export const x = 1;\n');
    write('libs/hal/src/index.ts', 'export const y = 2;\n');
    write('README.md', 'workspace, changed\n');
    write('.changeset/core-x.md', "---\n'@growoff/core': patch\n---\n\nx\n");
    commit('core and hal');
    expect(checkChangesets(repo, 'main')).toMatchObject({
      changed: ['@growoff/core', '@growoff/hal'],
      missing: ['@growoff/hal'],
    });
  });

  it('needs no changeset for a change to tests only (a test folder or a *.test.ts beside the source)', () => {
    write('apps/core/test/api.test.ts', 'export const t = 1;\n');
    write('libs/hal/src/crc.test.ts', 'export const t = 2;\n');
    commit('tests only');
    expect(checkChangesets(repo, 'main')).toMatchObject({ changed: [], missing: [] });
    write('libs/hal/src/crc.ts', 'export const crc = 3;\n');
    expect(checkChangesets(repo, 'main')).toMatchObject({
      changed: ['@growoff/hal'],
      missing: ['@growoff/hal'],
    });
  });

  it('asks one for a package pnpm-workspace.yaml names by its folder, as the Telegraf image', () => {
    write('docker/telegraf/telegraf.conf', '[agent]\n  interval = "10s"\n');
    commit('telegraf change');
    expect(checkChangesets(repo, 'main')).toMatchObject({
      changed: ['@growoff/telegraf'],
      missing: ['@growoff/telegraf'],
    });
  });

  it('does not count a changeset already on the base, nor changes the base made after the branch started', () => {
    write('.changeset/old.md', "---\n'@growoff/hal': minor\n---\n\nold\n");
    git('checkout', '-q', 'main');
    commit('old changeset on main');
    write('apps/core/src/main.ts', 'export const onMain = 1;\n');
    commit('core change on main, with no changeset');
    git('checkout', '-q', 'change');
    write('libs/hal/src/index.ts', 'export const y = 2;\n');
    commit('hal change');
    expect(checkChangesets(repo, 'main')).toMatchObject({
      changed: ['@growoff/hal'],
      missing: ['@growoff/hal'],
    });
  });

  it('exits 1 naming the package from the command line, 0 once covered', () => {
    write('libs/hal/src/index.ts', 'export const y = 2;\n');
    const run = () => spawnSync(tsx, [cli, '--base', 'main'], { cwd: repo, encoding: 'utf8' });
    const refused = run();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('changed since main without a changeset: @growoff/hal');
    write('.changeset/hal-y.md', '---\n"@growoff/hal": minor\n---\n\ny\n');
    const passed = run();
    expect(passed.stderr).toBe('');
    expect(passed.status).toBe(0);
  });
});

describe('changesetPackages', () => {
  it('reads the packages of the front matter in any quoting', () => {
    expect(
      changesetPackages(
        "---\n'@growoff/core': patch\n\"@growoff/hal\": minor\n@growoff/os: major\n---\n\n'@growoff/x': patch\n",
      ),
    ).toEqual(['@growoff/core', '@growoff/hal', '@growoff/os']);
  });
});
