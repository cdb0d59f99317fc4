import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackages } from '@growoff/test-services';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Tracked files that are shell scripts: named *.sh, or starting with a sh/bash shebang. */
function shellScripts(): string[] {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  return files.filter((file) => {
    if (file.endsWith('.sh')) return true;
    if (/\.(ts|js|mjs|json|md|ya?ml|txt|conf|service)$/.test(file)) return false;
    try {
      return /^#!\s*\/(usr\/)?bin\/(env\s+)?(ba)?sh\b/.test(
        readFileSync(join(repo, file), 'utf8').slice(0, 64),
      );
    } catch {
      return false;
    }
  });
}

describe('shell scripts', () => {
  beforeAll(() => ensureDebianPackages([{ file: '/usr/bin/shellcheck', package: 'shellcheck' }]));

  it('finds the repository scripts, the installer, provisioning and image stage among them', () => {
    const scripts = shellScripts();
    expect(scripts).toEqual(
      expect.arrayContaining([
        'tools/base/install.sh',
        'tools/os/provision.sh',
        'tools/images/stage/deploy-app.sh',
        '.ci/run',
      ]),
    );
  });

  it('every shell script in the repository passes shellcheck', () => {
    const scripts = shellScripts();
    const r = spawnSync('shellcheck', ['--format=gcc', ...scripts], { cwd: repo, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
