import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // Chromium for the browser tests and the console's assets, made once per run.
    globalSetup: ['../../tools/services/src/test-tmpdir.ts', 'test/console-setup.ts'],
    hookTimeout: 60_000,
    // The JSON report lets `npm test` print one closing count for the whole workspace.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
