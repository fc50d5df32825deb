import { describe, expect, it } from 'vitest'
import { describeFailure, simulate, sweepOptions } from '../../src/check/cluster'

describe('deterministic cluster simulation', () => {
  it('keeps every invariant over a slice of seeds', () => {
    let faults = 0
    for (let seed = 1; seed <= 24; seed++) {
      const result = simulate(sweepOptions(seed, { faultPhaseMs: 5_000 }))
      if (result.failure !== undefined) expect.fail(describeFailure(result.failure))
      // The slice did what it is for: clients were answered, entries committed, faults injected.
      expect(result.stats.completed).toBeGreaterThan(0)
      expect(result.stats.committed).toBeGreaterThan(0)
      faults += result.stats.crashes + result.stats.partitions
    }
    expect(faults).toBeGreaterThan(0)
  })

  it('survives crashes in the middle of a step, those that lose the step\'s unsynced write included (Figure 2: nothing that depended on it was sent)', () => {
    let inStep = 0
    let lost = 0
    let seed = 1
    // Seeds until a few of each kind have happened (each is drawn among the fault choices).
    while ((lost < 3 || inStep - lost < 3) && seed <= 200) {
      const result = simulate(sweepOptions(seed++, { faultPhaseMs: 5_000 }))
      if (result.failure !== undefined) expect.fail(describeFailure(result.failure))
      inStep += result.stats.crashesInStep
      lost += result.stats.writesLost
    }
    expect(lost).toBeGreaterThanOrEqual(3)
    expect(inStep - lost).toBeGreaterThanOrEqual(3)
  })

  it('gives the same run for the same seed, byte for byte, and another run for another seed', () => {
    const run = (seed: number) => simulate({ ...sweepOptions(seed, { faultPhaseMs: 4_000 }), fingerprint: true })
    const a = run(7)
    const b = run(7)
    const c = run(8)
    expect(a.fingerprint).toBe(b.fingerprint)
    expect(a.stats).toEqual(b.stats)
    expect(c.fingerprint).not.toBe(a.fingerprint)
  })
})
