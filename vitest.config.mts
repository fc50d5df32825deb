import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A timeout only stops a test that hangs; no test asserts a speed. The heaviest (exhaustive
    // searches, a long run through the reducer) take 20 to 60 s alone on two cores and two to three
    // times that when another `npm test` or a benchmark shares the cores.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Real-process tests spawn replicas; keep them from fighting for the 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
})
