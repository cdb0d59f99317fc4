import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findConsoleAssets } from '../src/console/static-assets';

/** A Pi 3 on a cabinet's Wi-Fi serves these; the issue holds them to 150 KB gzipped. */
const BUDGET_BYTES = 150 * 1024;

describe('console assets', () => {
  it('are built, self-contained (no address off the module) and within 150 KB gzipped', async () => {
    const dir = findConsoleAssets();
    expect(dir).toBeDefined();
    const files = await readdir(dir!);
    expect(files).toEqual(
      expect.arrayContaining(['index.html', 'app.js', 'app.css', 'sign-in.html', 'sign-in.js']),
    );
    let total = 0;
    for (const f of files) {
      const body = await readFile(join(dir!, f));
      total += gzipSync(body, { level: 9 }).length;
      if (f.endsWith('.html')) expect(body.toString()).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
  });
});
