import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // Its source maps point at sources the package does not ship; loaded without them, Vite has
      // nothing to warn about for each file.
      name: 'workflow-parser-without-source-maps',
      load(id) {
        if (!/@actions\/workflow-parser\/dist\/.*\.js$/.test(id)) return null;
        return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
      },
    },
  ],
  test: {
    // The run's temporary files in one folder of its own, removed at its end.
    globalSetup: ['../../tools/services/src/test-tmpdir.ts'],
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
