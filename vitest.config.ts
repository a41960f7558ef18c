import { defineConfig } from 'vitest/config';

// One run over every workspace project, so `npm test` ends with a single summary.
export default defineConfig({
  test: {
    projects: [
      'packages/*/vitest.config.ts',
      'apps/*/vitest.config.ts',
      'apps/cloudfunctions/*/vitest.config.ts',
    ],
  },
});
