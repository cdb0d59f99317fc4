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

/** The first line of a failure message, without colour codes, cut to one screen line. */
function firstLine(message: string | undefined): string {
  const lines = stripVTControlCharacters(message ?? '').split('\n');
  const text = (lines.find((line) => line.trim() !== '') ?? '').trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * Adds up the JSON reports vitest wrote in each package, for one closing line, and names each
 * failure (file, test, first line of its message): CI keeps only the end of the output.
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
        total.failures.push(`${where} > ${assertion.fullName}: ${firstLine(assertion.failureMessages?.[0])}`);
      }
      // A file that failed to load has no failed assertion, only its own message.
      if (failed.length === 0 && result.message)
        total.failures.push(`${where}: ${firstLine(result.message)}`);
    }
  }
  return total;
}
