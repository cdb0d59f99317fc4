import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppName } from './apps';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function appDir(app: AppName): string {
  return join(REPO_ROOT, 'apps', app);
}

export function appVersion(app: AppName): string {
  return (JSON.parse(readFileSync(join(appDir(app), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The commit the image is built from, `-dirty` when the working tree differs from it. */
export function revision(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}
