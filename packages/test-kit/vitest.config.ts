import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'test-kit',
    include: ['src/**/*.test.ts'],
    // Hooks start real processes: on a loaded 2-core machine that has taken over 10 s.
    hookTimeout: 30_000,
  },
});
