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

  it('bundles every npm dependency but the named ones (and their subpaths), and gives the bundle a require', () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-build-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@growoff/example', version: '1.0.0' }));
    const options = appBuildOptions(dir, { bundleDependenciesExcept: ['ssh2', '@fastify/swagger-ui'] });
    const bundled = (id: string) => (options.noExternal as RegExp[]).some((pattern) => pattern.test(id));
    expect(['mqtt', '@growoff/protocol', 'ssh2-streams', '@fastify/swagger'].filter(bundled)).toHaveLength(4);
    expect(['ssh2', 'ssh2/lib/client.js', '@fastify/swagger-ui'].filter(bundled)).toEqual([]);
    expect(options.external).toEqual(['ssh2', '@fastify/swagger-ui']);
    expect((options.banner as { js: string }).js).toMatch(/const require = \w+\(import\.meta\.url\)/);
  });

  it('keeps npm dependencies external by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-build-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@growoff/example', version: '1.0.0' }));
    const options = appBuildOptions(dir);
    expect(options.noExternal).toEqual([/^@growoff\//]);
    expect(options.external).toBeUndefined();
  });
});
