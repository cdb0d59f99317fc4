import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The workflow parser imports its schema JSON without an import attribute, which Node's own
    // loader refuses; Vite's transform loads it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    // The JSON report lets `npm test` print one closing count for the whole workspace.
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]],
  },
});
