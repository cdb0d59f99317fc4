import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The run's temporary files in one folder of its own, removed at its end.
    globalSetup: ['../../tools/services/src/test-tmpdir.ts'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report lets `npm test` print one closing count for the whole workspace.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
