import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appBuildOptions } from '../../../tsup.app.config';

describe('the apps build (tsup.app.config.ts)', () => {
  it("injects the version of the package it builds, read from that package's package.json", () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-build-'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: '@growoff/example', version: '7.8.9-rc.1' }),
    );
    expect(appBuildOptions(dir).define).toEqual({ __GROWOFF_APP_VERSION__: '"7.8.9-rc.1"' });
  });
});
