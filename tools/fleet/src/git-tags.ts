import { execFileSync } from 'node:child_process';
import type { CliIo } from './cli-io';
import { FleetError } from './fleet-error';

function git(io: CliIo, args: string[]): string {
  return execFileSync('git', args, { cwd: io.cwd, env: io.env, encoding: 'utf8', stdio: 'pipe' }).trim();
}

/** The commit checked out where the command runs (the release is cut from it), or FLEET_GIT. */
export function headCommit(io: CliIo): string {
  try {
    return git(io, ['rev-parse', '--verify', 'HEAD^{commit}']);
  } catch (error) {
    throw new FleetError(
      'FLEET_GIT',
      `no git commit to tag here (${firstLine(error)}); pass --no-git-tag to skip tagging`,
    );
  }
}

/**
 * Tags `commit` with the fleet release name (a plain tag: it needs no git identity). The same tag on the same commit is
 * fine (a command run again); the tag on another commit is refused: a release name means one commit.
 */
export function tagRelease(io: CliIo, name: string, commit: string): 'tagged' | 'already' {
  let existing: string | undefined;
  try {
    existing = git(io, ['rev-parse', '--verify', '--quiet', `refs/tags/${name}^{commit}`]);
  } catch {
    existing = undefined;
  }
  if (existing) {
    if (existing === commit) return 'already';
    throw new FleetError(
      'FLEET_GIT_TAG_EXISTS',
      `the git tag ${name} points at ${existing.slice(0, 12)}, not ${commit.slice(0, 12)}; a release name is used once`,
    );
  }
  try {
    git(io, ['tag', name, commit]);
  } catch (error) {
    throw new FleetError('FLEET_GIT', `git tag ${name}: ${firstLine(error)}`);
  }
  return 'tagged';
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: string }).stderr;
  return (stderr || (error as Error).message).split('\n')[0]!.trim();
}
