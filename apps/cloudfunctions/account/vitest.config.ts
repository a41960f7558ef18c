import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cloudfunction-account',
    include: ['src/**/*.test.ts'],
  },
});
