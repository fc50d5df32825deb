/**
 * End to end: the project's real replica (./3700kvstore, built by `npm test` before vitest) through
 * a shortened scenario with drops, one hard partition and one leader kill. Correctness must pass.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { describe, expect, it } from 'vitest'
import { formatRun } from '../../src/sim/report'
import { runScenario } from '../../src/sim/runner'
import { shortScenario } from './helpers'

const replica = path.resolve(__dirname, '../../3700kvstore')

describe('kvsim with the real replica', () => {
  it('passes correctness on a short scenario with drops, a partition and a leader kill', async () => {
    const scenario = shortScenario({
      lifetime: 6,
      replicas: 5,
      requests: 120,
      mix: 0.2,
      drops: 0.1,
      start_wait: 2,
      end_wait: 2,
      events: [
        { type: 'part_hard', time: 1 },
        { type: 'part_end', time: 2.5 },
        { type: 'kill_leader', time: 4 },
      ],
      tests: { maximum_get_generation_fail_fraction: 0.5 },
    })
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsim-e2e-'))
    try {
      const result = await runScenario(scenario, { replica, seed: 2024, silent: true, cwd })
      const report = formatRun(result)
      // The report says what went wrong if an assertion fails. A run in which kvsim's own receive
      // buffers overflowed lost client traffic the protocol never loses: that is kvsim's failure.
      expect(result.harnessDrops ?? 0, report).toBe(0)
      expect(result.score.correct, report).toBe(true)
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true })
    }
  }, 60_000)
})
