import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cloudfunction-phone',
    include: ['src/**/*.test.ts'],
  },
});
