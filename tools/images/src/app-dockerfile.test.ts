import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_NAMES } from './apps';
import { APP_DOCKERFILE } from './build-image';
import { REPO_ROOT } from './workspace';

const DEPLOY_APP = join(REPO_ROOT, 'tools/images/stage/deploy-app.sh');
const INSTALL_INPUTS = join(REPO_ROOT, 'tools/images/stage/install-inputs.sh');

/** The files under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** deploy-app.sh in a scratch build context holding a prepared deploy made for `preparedFor`. */
function deployPrepared(app: string, preparedFor: string): { status: number | null; stderr: string } {
  const context = mkdtempSync(join(tmpdir(), 'deploy-app-'));
  mkdirSync(join(context, '.prepared/app/dist'), { recursive: true });
  mkdirSync(join(context, '.prepared/app/node_modules'));
  writeFileSync(join(context, '.prepared/app/dist/main.js'), '');
  cpSync(join(REPO_ROOT, 'tools/images/stage'), join(context, 'tools/images/stage'), { recursive: true });
  writeFileSync(
    join(context, '.prepared/prepared.json'),
    JSON.stringify({ app: preparedFor, arch: process.arch, modules: process.versions.modules }),
  );
  const run = spawnSync('sh', [DEPLOY_APP, app, 'prepared', join(context, 'out')], {
    cwd: context,
    encoding: 'utf8',
  });
  rmSync(context, { recursive: true, force: true });
  return { status: run.status, stderr: run.stderr };
}

describe('the Node apps Dockerfile (docker/app/Dockerfile)', () => {
  it('is the only one: a stage per app, chosen by APP, and no Dockerfile of its own for any app', () => {
    const dockerfile = readFileSync(APP_DOCKERFILE, 'utf8');
    for (const app of APP_NAMES) expect(dockerfile, app).toMatch(new RegExp(`^FROM app AS ${app}$`, 'm'));
    expect(dockerfile).toMatch(/^FROM \$\{APP\}$/m);
    expect(readdirSync(join(REPO_ROOT, 'docker')).sort()).toEqual(['app', 'telegraf']);
  });

  it("installs the three apps' dependencies in one layer before the sources and APP, so the apps share it", () => {
    const dockerfile = readFileSync(APP_DOCKERFILE, 'utf8');
    const build = dockerfile.slice(dockerfile.indexOf('FROM ${BUILD_IMAGE} AS build'));
    const stage = build.slice(0, build.indexOf('\nFROM ', 1)).split('\n');
    const at = (line: string) => stage.indexOf(line);
    const install = at('RUN sh tools/images/stage/install-deps.sh "$APP_DEPS"');
    expect(at('COPY --from=install-inputs /inputs/ ./')).toBeGreaterThan(-1);
    expect(at('COPY --from=install-inputs /inputs/ ./')).toBeLessThan(install);
    expect(install).toBeLessThan(at('COPY . .'));
    expect(install).toBeLessThan(at('ARG APP'));
    expect(stage.slice(0, install).filter((l) => !l.startsWith('#') && /\bAPP\b|^COPY \. /.test(l))).toEqual(
      [],
    );
  });

  it("the install's inputs are the lockfile, pnpm's settings and every workspace manifest, no source", () => {
    const out = mkdtempSync(join(tmpdir(), 'install-inputs-'));
    try {
      const run = spawnSync('sh', [INSTALL_INPUTS, out], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const manifests = execFileSync('git', ['ls-files', 'package.json', '*/package.json'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      })
        .split('\n')
        .filter((f) => f !== '');
      expect(manifests.length).toBeGreaterThan(10);
      expect(filesUnder(out)).toEqual(
        [...manifests, 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tools/images/stage/install-deps.sh'].sort(),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('installs nothing for a prepared context, and refuses an unknown mode', () => {
    const context = mkdtempSync(join(tmpdir(), 'install-deps-'));
    try {
      const script = join(REPO_ROOT, 'tools/images/stage/install-deps.sh');
      const prepared = spawnSync('sh', [script, 'prepared'], { cwd: context, encoding: 'utf8' });
      expect(prepared.status).toBe(0);
      expect(readdirSync(context)).toEqual([]);
      const unknown = spawnSync('sh', [script, 'cached'], { cwd: context, encoding: 'utf8' });
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain("unknown mode 'cached' (source or prepared)");
      const noLockfile = spawnSync('sh', [script, 'source'], { cwd: context, encoding: 'utf8' });
      expect(noLockfile.status).toBe(1);
      expect(noLockfile.stderr).toContain('pnpm-lock.yaml missing from the build context');
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });

  it("refuses a context prepared for another app, and an APP that is not an app's name", () => {
    const mismatch = deployPrepared('tunnel', 'core');
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toContain('the context was prepared for core, not tunnel');
    const unknown = deployPrepared('', 'core');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("APP is ''; build with --build-arg APP=core, updater or tunnel");
    expect(deployPrepared('core', 'core').status).toBe(0);
  });
});
