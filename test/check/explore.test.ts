import { describe, expect, it } from 'vitest'
import { describeCounterexample, explore } from '../../src/check/explore'
import { mutants } from '../../src/check/mutants'
import { realStep, type Stepper } from '../../src/check/stepper'
import { defaultSettings, withSettings } from '../../src/domain/config'

describe('bounded exhaustive exploration', () => {
  it('from boot: no counterexample through the first elections, and leaders are elected within the bound', () => {
    const result = explore({ step: realStep, bounds: { maxDepth: 12, maxStates: 6_000 } })
    if (result.counterexample !== undefined) expect.fail(describeCounterexample(result.counterexample))
    expect(result.statesExplored).toBeGreaterThan(100)
    expect(result.elections).toBeGreaterThan(0)
  })

  it('from an elected leader: no counterexample among replication, client requests and the next elections', () => {
    const result = explore({ step: realStep, start: 'leader', bounds: { maxDepth: 6, maxStates: 8_000 } })
    if (result.counterexample !== undefined) expect.fail(describeCounterexample(result.counterexample))
    expect(result.depthReached).toBeGreaterThanOrEqual(5)
    // The search reached client operations: replies were sent to the client and checked.
    expect(result.clientReplies).toBeGreaterThan(0)
  })

  it('from an elected leader, it finds a leader that does not step down on a higher term', () => {
    const result = explore({ step: mutants['no-step-down'].step, start: 'leader', bounds: { maxDepth: 8, maxStates: 40_000 } })
    const found = result.counterexample
    expect(found, 'the mutant went unnoticed').toBeDefined()
    expect(found!.violation.invariant).toMatch(/Election Safety|Leader Append-Only|Log Matching/)
    // The counterexample starts with the warm start's first election.
    expect(found!.path[0]).toMatch(/0000 timer election .*\(warm start\)/)
  })

  it('§7 in every interleaving: with the log compacted after each applied entry, the search is complete and finds nothing', () => {
    let compactions = 0
    const counting: Stepper = (state, event) => {
      const result = realStep(state, event)
      for (const effect of result[1]) if (effect.kind === 'persist' && effect.snapshot !== undefined) compactions++
      return result
    }
    const result = explore({
      step: counting,
      start: 'leader',
      settings: withSettings(defaultSettings, { limits: { snapshotEvery: 1, snapshotChunkChars: 16 } }),
      bounds: { maxDepth: 20, maxTerm: 1, maxTimerFirings: 1, maxInFlight: 3, maxStates: 100_000 },
    })
    if (result.counterexample !== undefined) expect.fail(describeCounterexample(result.counterexample))
    expect(result.complete).toBe(true)
    expect(compactions).toBeGreaterThan(0)
  })
})
