import { defineProject } from 'vitest/config';

// The shared runtime has no src tests; this project runs the wx-server-sdk stand-in's own tests.
export default defineProject({
  test: {
    name: 'cloud-runtime',
    include: ['test-support/**/*.test.ts'],
    // Hooks start real processes (the emulator, the server): on a loaded 2-core machine that
    // has taken over 10 s.
    hookTimeout: 30_000,
  },
});
