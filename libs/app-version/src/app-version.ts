import { readFileSync } from 'node:fs';

/** Set by the apps' build (tsup.app.config.ts) to the version in the app's package.json. */
declare const __GROWOFF_APP_VERSION__: string | undefined;

/**
 * The app's version. In its bundle (`dist/main.js`, the image) it is the one the build injected,
 * so no package.json or npm is needed at run time; from source (tsx, vitest), where nothing is
 * injected, it is read from `packageJson`, the app's package.json.
 */
export function appVersion(packageJson: URL): string {
  if (typeof __GROWOFF_APP_VERSION__ === 'string') return __GROWOFF_APP_VERSION__;
  return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
}
