import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarize } from './test-report';

const packageDir = resolve(fileURLToPath(import.meta.url), '../..');

/**
 * A package of three tests, one passing, one failing, one to do (counted as skipped), a file that
 * cannot load, and a file whose beforeAll runs a command that fails saying why on its stderr.
 */
function runFixture(): string {
  const tmp = join(packageDir, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'report-fixture-'));
  writeFileSync(
    join(dir, 'a.test.ts'),
    [
      "import { describe, expect, it } from 'vitest';",
      "describe('the pump', () => {",
      "  it('stops', () => expect(1).toBe(1));",
      "  it('starts', () => expect('off').toBe('on'));",
      "  it.todo('rests');",
      '});',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'b.test.ts'), "import './missing-module';\n");
  writeFileSync(
    join(dir, 'c.test.ts'),
    [
      "import { execFileSync } from 'node:child_process';",
      "import { beforeAll, it } from 'vitest';",
      'beforeAll(() => {',
      "  execFileSync(process.execPath, ['-e', 'console.error(\"no space left on device\"); process.exit(1)'], { stdio: 'pipe' });",
      '});',
      "it('never runs', () => undefined);",
    ].join('\n'),
  );
  writeFileSync(join(dir, 'vitest.config.ts'), 'export default {};\n');
  try {
    execFileSync(
      'pnpm',
      ['exec', 'vitest', 'run', '--root', dir, '--reporter=json', '--outputFile=.tmp/vitest-results.json'],
      { cwd: packageDir, stdio: 'ignore' },
    );
  } catch {
    // vitest exits 1: the fixture fails on purpose.
  }
  return dir;
}

describe('the closing summary of npm test', () => {
  it('counts each package and names every failed test and every file that failed to load, with the cause a failed command gave', () => {
    const fixture = runFixture();
    const total = summarize([fixture, join(fixture, 'no-such-package')], '.tmp/vitest-results.json', fixture);
    rmSync(fixture, { recursive: true, force: true });
    expect({ passed: total.passed, failed: total.failed, skipped: total.skipped }).toEqual({
      passed: 1,
      failed: 1,
      skipped: 2,
    });
    expect(total.failures).toHaveLength(3);
    expect(total.failures[0]).toMatch(
      /^a\.test\.ts > the pump starts: AssertionError: expected 'off' to be 'on'/,
    );
    expect(total.failures[1]).toMatch(/^b\.test\.ts: .*missing-module/);
    // The command's own line, then what it said on stderr, not the stack below.
    expect(total.failures[2]).toMatch(/^c\.test\.ts: Command failed: .* ⏎ no space left on device$/);
  }, 60_000);
});
