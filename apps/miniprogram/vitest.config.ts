import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'miniprogram',
    include: ['test/**/*.test.ts'],
  },
});
