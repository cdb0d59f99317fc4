import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_NAMES } from './apps';
import { APP_DOCKERFILE } from './build-image';
import { REPO_ROOT } from './workspace';

const DEPLOY_APP = join(REPO_ROOT, 'tools/images/stage/deploy-app.sh');

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
