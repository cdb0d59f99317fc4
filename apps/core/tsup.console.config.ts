import { defineConfig } from 'tsup';

/**
 * The console's browser bundle: console/src → dist/console (app.js, app.css with uPlot's, the sign-in
 * page's, the HTML pages). Everything is bundled: the page must work with no internet.
 */
export default defineConfig({
  entry: { app: 'console/src/app.ts', 'sign-in': 'console/src/sign-in.ts' },
  format: ['iife'],
  platform: 'browser',
  target: 'es2020',
  outDir: 'dist/console',
  publicDir: 'console/public',
  outExtension: () => ({ js: '.js' }),
  minify: true,
  clean: true,
  sourcemap: false,
  noExternal: [/.*/],
  tsconfig: 'console/tsconfig.json',
});
