import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cloudfunction-rewards',
    include: ['src/**/*.test.ts'],
  },
});
