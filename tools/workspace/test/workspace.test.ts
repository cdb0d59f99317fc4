import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workspacePackageDirs } from '../src/workspace-packages';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  nx?: { name: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

function packageDirs(): string[] {
  return workspacePackageDirs(root);
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as PackageJson;
}

/** The npm packages the non-test sources under `dir` import (static and dynamic imports). */
function importedPackages(dir: string): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)) {
      if (spec!.startsWith('node:')) continue;
      const parts = spec!.split('/');
      names.add(spec!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  return [...names];
}

describe('the workspace', () => {
  it('names every package @growoff/<name>, private, versioned, with a changelog', () => {
    const dirs = packageDirs();
    expect(dirs.length).toBeGreaterThanOrEqual(7);
    for (const dir of dirs) {
      const pkg = readPackage(dir);
      expect(pkg.name, dir).toMatch(/^@growoff\/[a-z0-9-]+$/);
      expect(pkg.private, dir).toBe(true);
      expect(pkg.version, dir).toMatch(/^\d+\.\d+\.\d+/);
      expect(existsSync(join(root, dir, 'CHANGELOG.md')), `${dir}/CHANGELOG.md`).toBe(true);
    }
  });

  it('has the apps depend on the libraries they bundle through the workspace protocol', () => {
    const core = readPackage('apps/core');
    for (const lib of ['@growoff/hal', '@growoff/protocol', '@growoff/telemetry']) {
      expect(core.dependencies?.[lib]).toBe('workspace:*');
    }
    for (const app of ['apps/updater', 'apps/tunnel']) {
      expect(readPackage(app).dependencies?.['@growoff/protocol'], app).toBe('workspace:*');
    }
  });

  it('has each app depend on the npm packages of the libraries it bundles, so tsup leaves them external', () => {
    // A CommonJS package bundled into an ESM app fails at start ("Dynamic require of fs").
    for (const app of packageDirs().filter((dir) => dir.startsWith('apps/'))) {
      const deps = readPackage(app).dependencies ?? {};
      for (const lib of Object.keys(deps).filter((name) => name.startsWith('@growoff/'))) {
        const libDir = `libs/${lib.slice('@growoff/'.length)}`;
        for (const dep of Object.keys(readPackage(libDir).dependencies ?? {})) {
          expect(deps[dep], `${app} bundles ${lib}, which needs ${dep}`).toBeDefined();
        }
      }
    }
  });

  it('has each app depend only on what its source imports and what the libraries it bundles need', () => {
    // A dependency nothing imports still ships in the image (pnpm deploy --prod).
    for (const app of packageDirs().filter((dir) => dir.startsWith('apps/'))) {
      const imported = importedPackages(join(root, app, 'src'));
      const needed = new Set(imported);
      for (const lib of imported.filter((name) => name.startsWith('@growoff/'))) {
        const libDir = `libs/${lib.slice('@growoff/'.length)}`;
        for (const dep of Object.keys(readPackage(libDir).dependencies ?? {})) needed.add(dep);
      }
      for (const dep of Object.keys(readPackage(app).dependencies ?? {})) {
        expect(
          needed.has(dep),
          `${app} depends on ${dep}, which neither it nor a library it bundles imports`,
        ).toBe(true);
      }
    }
  });

  it('bumps an app when a library it bundles is released, and tags private packages', () => {
    // A copy of the workspace's manifests and changesets config, so the real repository is untouched.
    const copy = mkdtempSync(join(tmpdir(), 'growoff-changesets-'));
    for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(root, file), join(copy, file));
    }
    for (const dir of packageDirs()) {
      mkdirSync(join(copy, dir), { recursive: true });
      cpSync(join(root, dir, 'package.json'), join(copy, dir, 'package.json'));
    }
    writeFileSync(join(copy, '.changeset/hal-change.md'), "---\n'@growoff/hal': minor\n---\n\nA change.\n");
    const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', 'copy');
    const changeset = join(root, 'node_modules/.bin/changeset');
    execFileSync(changeset, ['status', '--output', 'status.json'], { cwd: copy, stdio: 'ignore' });
    const status = JSON.parse(readFileSync(join(copy, 'status.json'), 'utf8')) as {
      releases: { name: string; type: string }[];
    };
    const bumped = Object.fromEntries(status.releases.map((r) => [r.name, r.type]));
    expect(bumped['@growoff/hal']).toBe('minor');
    expect(bumped['@growoff/core']).toBe('patch');
    expect(bumped['@growoff/updater']).toBeUndefined();

    const config = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')) as {
      privatePackages: { version: boolean; tag: boolean };
    };
    expect(config.privatePackages).toEqual({ version: true, tag: true });
  });

  it('runs `npm test` from CI', () => {
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it('has CI refuse a pull request that changes a package without a changeset', () => {
    const ci = readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8');
    expect(ci).toContain('pnpm exec changeset status --since="origin/${{ github.base_ref }}"');
    expect(ci).toContain('pnpm run changeset:check --base="origin/${{ github.base_ref }}"');
    expect(readPackage('.').scripts?.['changeset:check']).toBe('tsx tools/workspace/src/check-changesets.ts');
  });
});
