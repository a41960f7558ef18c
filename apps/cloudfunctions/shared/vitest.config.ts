import { defineProject } from 'vitest/config';

// The shared runtime has no src tests; this project runs the wx-server-sdk stand-in's own tests.
export default defineProject({
  test: {
    name: 'cloud-runtime',
    include: ['test-support/**/*.test.ts'],
  },
});
