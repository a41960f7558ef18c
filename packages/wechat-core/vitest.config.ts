import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'wechat-core',
    include: ['src/**/*.test.ts'],
  },
});
