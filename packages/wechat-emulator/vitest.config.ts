import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'wechat-emulator',
    include: ['src/**/*.test.ts'],
  },
});
