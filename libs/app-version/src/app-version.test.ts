import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appVersion } from './index';

describe('appVersion', () => {
  it('reads the version from the package.json it is given when the build injected none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-version-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: '@growoff/example', version: '3.2.1-rc.4' }),
    );
    expect(appVersion(pathToFileURL(join(dir, 'package.json')))).toBe('3.2.1-rc.4');
  });
});
