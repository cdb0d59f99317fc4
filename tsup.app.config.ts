import { defineConfig } from 'tsup';

/**
 * The build of every app: src/main.ts → dist/main.js, the entry its image runs. Workspace
 * libraries are bundled into the app; npm dependencies (the app's own, which include those of
 * the libraries it bundles) stay external.
 */
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  noExternal: [/^@growoff\//],
});
