import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // The files mostly wait on the engine, containers and windows of seconds (44 % of one core's CPU
    // over the run here): two at a time took the suite from 565 s to 304 s on this 2-core machine.
    // Each test has its own containers, repositories, topics, ports and folders.
    maxWorkers: 2,
    hookTimeout: 60_000,
    // Containers that killed runs left behind (see the file).
    globalSetup: ['../../tools/services/src/test-tmpdir.ts', 'test/support/stale-containers.ts'],
    // The JSON report lets `npm test` print one closing count for the whole workspace.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
