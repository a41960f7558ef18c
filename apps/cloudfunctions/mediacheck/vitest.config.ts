import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'cloudfunction-mediacheck',
    include: ['src/**/*.test.ts'],
  },
});
