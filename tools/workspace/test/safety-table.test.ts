import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSource, root, typeScriptFiles } from './source-tree';

/** `describe > it` titles named in a hazard row's last cell (its test column). */
function titlesOf(cell: string): string[] {
  return cell
    .split(/;\s+/)
    .map((part) =>
      part
        .replace(/^\s*[a-z-]+:\s*/, '')
        .replace(/\s*\([^)]*\)\s*$/, '')
        .trim()
        .replace(/^`|`$/g, ''),
    )
    .filter((t) => t.includes(' > '));
}

function hazardRows(doc: string): { row: string; test: string }[] {
  return doc
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => l.split('|').slice(1, -1))
    .filter((cells) => !/^\s*(#|hazard|Hazard)\s*$/.test(cells[0] ?? '') && cells.length >= 4)
    .map((cells) => ({ row: cells[0]!.trim() + ' ' + cells[1]!.trim().slice(0, 60), test: cells.at(-1)! }));
}

describe('docs/SAFETY.md', () => {
  const doc = readFileSync(join(root, 'docs/SAFETY.md'), 'utf8');
  const tests = typeScriptFiles('apps', 'libs', 'tools')
    .filter((f) => f.endsWith('.test.ts'))
    .map(readSource)
    .join('\n');
  /** A title as it stands in a test file: quoted with ' " or `, escapes as written there. */
  /** `describe.each` titles with `$name` placeholders, as patterns. */
  const templates = [...tests.matchAll(/\)\('([^']*\$[a-z]\w*[^']*)'/g)].map(
    (m) => new RegExp(`^${m[1]!.replace(/[.*+?^{}()|[\]\\]/g, '\\$&').replace(/\\?\$[a-z]\w*/g, '.+')}$`),
  );
  const inTests = (title: string) =>
    [title, title.replace(/'/g, "\\'"), title.replace(/"/g, '\\"')].some((t) => tests.includes(t)) ||
    templates.some((t) => t.test(title));

  it('names, in every hazard row, a test whose describe and it titles exist', () => {
    const rows = hazardRows(doc).filter((r) => !/see below/.test(r.test));
    expect(rows.length).toBeGreaterThan(30);
    const missing: string[] = [];
    for (const { row, test } of rows) {
      const titles = titlesOf(test);
      // A measured hazard (event-loop lag while draining) names its bench, which must exist.
      const bench = /^\s*(bench\/[\w-]+)/.exec(test)?.[1];
      if (bench && titles.length === 0) {
        if (!existsSync(join(root, bench))) missing.push(`${row}: no ${bench}`);
        continue;
      }
      if (titles.length === 0) missing.push(`${row}: names no test`);
      for (const title of titles) {
        const [outer, ...inner] = title.split(' > ');
        if (!inTests(outer!) || !inTests(inner.join(' > '))) missing.push(`${row}: ${title}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has a row for every finding of issue #13 (1-17)', () => {
    const ids = hazardRows(doc).map((r) => r.row.split(' ')[0]!);
    const findings = new Set(ids.map((id) => Number.parseInt(id, 10)).filter((n) => !Number.isNaN(n)));
    const headings = [...doc.matchAll(/^### (\d+)\./gm)].map((m) => Number(m[1]));
    for (const n of headings) findings.add(n);
    expect([...Array(17).keys()].map((i) => i + 1).filter((n) => !findings.has(n))).toEqual([]);
  });
});
