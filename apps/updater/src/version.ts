import { readFileSync } from 'node:fs';

declare const __GROWOFF_APP_VERSION__: string | undefined;

/**
 * This app's version, from its package.json: injected by the build (tsup.app.config.ts), so
 * `node dist/main.js` and the image report it without npm; read from the file when run from
 * source (tsx, vitest), where nothing is injected.
 */
export const APP_VERSION: string =
  typeof __GROWOFF_APP_VERSION__ === 'string'
    ? __GROWOFF_APP_VERSION__
    : (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
        .version;
