import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The run's temporary files in one folder of its own, removed at its end.
    globalSetup: ['../../tools/services/src/test-tmpdir.ts'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    // Building the three images (pnpm deploy + docker build each) happens once, in beforeAll.
    hookTimeout: 600_000,
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
