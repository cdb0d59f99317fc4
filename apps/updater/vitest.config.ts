import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Containers that killed runs left behind (see the file).
    globalSetup: ['../../tools/services/src/test-tmpdir.ts', 'test/support/stale-containers.ts'],
    // The JSON report lets `npm test` print one closing count for the whole workspace.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
