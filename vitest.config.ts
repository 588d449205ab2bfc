import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/setup.ts'],
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
          // The end-to-end suite shares a kernel build and a 2-core machine: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
