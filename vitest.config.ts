import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Model-heavy tests share two cores; running files one or two at a time keeps them from starving each other.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
