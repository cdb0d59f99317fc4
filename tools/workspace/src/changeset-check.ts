import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspacePackageDirs } from './workspace-packages';

export interface ChangesetCheck {
  /** The packages with a changed file since the base, by name. */
  changed: string[];
  /** The packages a changeset added since the base names. */
  covered: string[];
  /** Changed packages that no new changeset names: the change needs one. */
  missing: string[];
}

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The workspace's packages: folder (relative to the repository, with a trailing `/`) → package name. */
function packages(repo: string): Map<string, string> {
  return new Map(
    workspacePackageDirs(repo).map((dir) => [
      `${dir}/`,
      (JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')) as { name: string }).name,
    ]),
  );
}

/** A package's tests are not part of what it ships: changing only them needs no changeset. */
export function isTestOnly(file: string): boolean {
  return /(^|\/)(test|__tests__)\//.test(file) || /\.test\.[cm]?[jt]sx?$/.test(file);
}

/** The package names a changeset's front matter bumps (`'@growoff/core': patch`). */
export function changesetPackages(text: string): string[] {
  const frontMatter = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1] ?? '';
  return frontMatter
    .split(/\r?\n/)
    .map((line) => /^\s*['"]?([^'":\s]+)['"]?\s*:\s*(?:patch|minor|major|none)\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * What `changeset status` checks, per package: every package with a shipped file (not a test) changed since `base`
 * (committed, staged, or in the working tree) is named by a changeset added or edited since then.
 * Compares against the merge base, so a base branch that moved on does not count its changes.
 */
export function checkChangesets(repo: string, base: string): ChangesetCheck {
  const since = git(repo, 'merge-base', base, 'HEAD').trim();
  const files = [
    ...git(repo, 'diff', '--name-only', since).split('\n'),
    ...git(repo, 'ls-files', '--others', '--exclude-standard').split('\n'),
  ].filter(Boolean);
  const dirs = packages(repo);
  const changed = new Set<string>();
  const covered = new Set<string>();
  for (const file of files) {
    if (/^\.changeset\/[^/]+\.md$/.test(file) && file !== '.changeset/README.md') {
      if (existsSync(join(repo, file)))
        for (const name of changesetPackages(readFileSync(join(repo, file), 'utf8'))) covered.add(name);
      continue;
    }
    if (isTestOnly(file)) continue;
    for (const [dir, name] of dirs) if (file.startsWith(dir)) changed.add(name);
  }
  const sorted = (names: Iterable<string>) => [...names].sort();
  return {
    changed: sorted(changed),
    covered: sorted(covered),
    missing: sorted([...changed].filter((name) => !covered.has(name))),
  };
}
