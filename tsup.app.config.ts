import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Options } from 'tsup';

/**
 * The build of the app in `packageDir`: src/main.ts → dist/main.js, the entry its image runs.
 * Workspace libraries are bundled into the app; npm dependencies (the app's own, which include
 * those of the libraries it bundles) stay external. The package's version is injected as
 * `__GROWOFF_APP_VERSION__` (read by `@growoff/app-version`), so the bundle reports it under
 * plain `node`, where npm sets no `npm_package_version`.
 */
export function appBuildOptions(packageDir: string): Options {
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    entry: ['src/main.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    outDir: 'dist',
    clean: true,
    sourcemap: true,
    noExternal: [/^@growoff\//],
    define: { __GROWOFF_APP_VERSION__: JSON.stringify(version) },
  };
}

// tsup runs in the app's directory (its package script), next to its package.json.
export default defineConfig(() => appBuildOptions(process.cwd()));
