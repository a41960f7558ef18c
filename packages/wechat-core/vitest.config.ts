import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'wechat-core',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Hooks start real processes (the emulator, the server): on a loaded 2-core machine that
    // has taken over 10 s.
    hookTimeout: 30_000,
  },
});
