import { mergeConfig } from 'vitest/config';
import base from './vitest.config';

// The APP_DEPS=source images: every step of every app's build runs under qemu.
export default mergeConfig(base, {
  test: {
    include: ['test/**/*.source-test.ts'],
    reporters: ['default', ['json', { outputFile: '.tmp/vitest-source-results.json' }]],
  },
});
