import { build } from 'tsup';
import { ensureDebianPackages } from '@growoff/test-services';
import consoleConfig from '../tsup.console.config';

/**
 * Global setup of the core's tests: the browser tests need Debian's chromium and the console's
 * built assets (the core serves them from dist/console). Both are made here once per run, so a fresh
 * clone runs them without a separate step.
 */
export default async function setup(): Promise<void> {
  ensureDebianPackages([{ file: '/usr/bin/chromium', package: 'chromium' }]);
  // config: false, or tsup merges in tsup.config.ts (the app's own build: its banner of Node's
  // `require` would break the browser bundle).
  await build({ ...consoleConfig, config: false, silent: true } as Parameters<typeof build>[0]);
}
