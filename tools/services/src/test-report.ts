import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: {
    name: string;
    message?: string;
    assertionResults?: { fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

/**
 * The gist of a failure message, without colour codes: its lines up to the first stack frame, at
 * most four, joined on one line and cut to 400 characters. One line is often not enough: a command
 * that failed (`Command failed: docker build …`) says why only on the lines of its stderr after it.
 */
function gist(message: string | undefined): string {
  const lines: string[] = [];
  for (const line of stripVTControlCharacters(message ?? '').split('\n')) {
    if (/^\s*at /.test(line) || lines.length === 4) break;
    if (line.trim() !== '') lines.push(line.trim());
  }
  const text = lines.join(' ⏎ ');
  return text.length > 400 ? `${text.slice(0, 397)}...` : text;
}

/**
 * Adds up the JSON reports vitest wrote in each package, for one closing line, and names each
 * failure (file, test, the gist of its message): CI keeps only the end of the output.
 */
export function summarize(
  dirs: string[],
  resultsFile: string,
  root: string,
): {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
} {
  const total = { passed: 0, failed: 0, skipped: 0, failures: [] as string[] };
  for (const dir of dirs) {
    const file = join(dir, resultsFile);
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as VitestReport;
    total.passed += report.numPassedTests;
    total.failed += report.numFailedTests;
    total.skipped += report.numPendingTests + report.numTodoTests;
    for (const result of report.testResults ?? []) {
      const where = relative(root, result.name);
      const failed = (result.assertionResults ?? []).filter((a) => a.status === 'failed');
      for (const assertion of failed) {
        total.failures.push(`${where} > ${assertion.fullName}: ${gist(assertion.failureMessages?.[0])}`);
      }
      // A file that failed to load has no failed assertion, only its own message.
      if (failed.length === 0 && result.message) total.failures.push(`${where}: ${gist(result.message)}`);
    }
  }
  return total;
}
