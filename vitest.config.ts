import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // Pure: no processes (the setup file makes starting one fail), no network, no kernel build.
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/unit/setup.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          // Real tools and hosts: sshd on 127.0.0.1, Debian roots (chroot), QEMU. The Debian root is
          // built on first use (test/helpers/rootfs.ts, under a file lock) and cached; the files share
          // it, ports and network namespaces on a 2-core machine: one file at a time.
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 30 * 60_000,
          fileParallelism: false,
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
