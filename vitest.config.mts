import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-process tests spawn replicas; keep them from fighting for the 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
