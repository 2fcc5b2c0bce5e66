import { defineConfig } from 'vitest/config';

// Forks, not threads: several suites start worker threads and child processes of their own, and the crash
// tests SIGKILL children; process isolation keeps one suite's LMDB environment out of another's.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
