import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cloudfunction-userinfo',
    include: ['src/**/*.test.ts'],
  },
});
