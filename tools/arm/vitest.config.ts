import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The run's temporary files in one folder of its own, removed at its end.
    globalSetup: ['../../tools/services/src/test-tmpdir.ts'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Under qemu a Node app starts in seconds to tens of seconds, and the machine is shared.
    testTimeout: 300_000,
    // Cross-building the production dependencies happens once per app and target, in beforeAll.
    hookTimeout: 600_000,
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
