import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The workspace's package folders (relative to the repository, e.g. `apps/core`), as
 * pnpm-workspace.yaml lists them: `group/*` for every folder of a group, or one folder by name.
 */
export function workspacePackageDirs(repo: string): string[] {
  const { packages = [] } = parse(readFileSync(join(repo, 'pnpm-workspace.yaml'), 'utf8')) as {
    packages?: string[];
  };
  return packages
    .flatMap((pattern) => {
      if (!pattern.endsWith('/*')) return [pattern];
      const group = pattern.slice(0, -2);
      return existsSync(join(repo, group))
        ? readdirSync(join(repo, group)).map((name) => `${group}/${name}`)
        : [];
    })
    .filter((dir) => existsSync(join(repo, dir, 'package.json')));
}
