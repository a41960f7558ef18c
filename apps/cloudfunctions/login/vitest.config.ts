import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cloudfunction-login',
    include: ['src/**/*.test.ts'],
  },
});
