import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { checkChangesets } from './changeset-check';

// Usage: check-changesets [--base REV] (default origin/main). Exit 1 names each changed package
// without a changeset; `pnpm changeset` writes one.
const { values } = parseArgs({ options: { base: { type: 'string', default: 'origin/main' } } });
try {
  const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  const { changed, missing } = checkChangesets(repo, values.base);
  if (missing.length > 0) {
    console.error(
      `changed since ${values.base} without a changeset: ${missing.join(', ')}\n` +
        `add one with \`pnpm changeset\` (a .changeset/<name>.md naming each package and its bump)`,
    );
    process.exitCode = 1;
  } else {
    console.log(`every changed package has a changeset (${changed.length} changed since ${values.base})`);
  }
} catch (error) {
  const stderr = (error as { stderr?: string }).stderr?.trim();
  console.error(`check-changesets: ${stderr || (error as Error).message}`);
  process.exitCode = 2;
}
