import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// The APP_DEPS=source images: every step of every app's build runs under qemu. Its own files only
// (mergeConfig would add these to the base's include, and run the prepared tests too).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.source-test.ts'],
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-source-results.json' }]],
  },
});
