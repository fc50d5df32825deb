import { describe, expect, it } from 'vitest'
import { simulate, sweepOptions, type SimResult } from '../../src/check/cluster'
import { describeCounterexample, explore } from '../../src/check/explore'
import { figure8Search, mutants, type MutantName } from '../../src/check/mutants'
import { realStep } from '../../src/check/stepper'

/** Runs seeds of the simulation against a mutant until one fails. */
const firstFailure = (name: MutantName, seeds: number, faultPhaseMs: number): SimResult | undefined => {
  const mutant = mutants[name]
  for (let seed = 1; seed <= seeds; seed++) {
    const result = simulate(sweepOptions(seed, { faultPhaseMs, ...mutant.options, step: mutant.step }))
    if (result.failure !== undefined) return result
  }
  return undefined
}

describe('the simulation finds known bugs', () => {
  it('votes granted without the up-to-date check', () => {
    const found = firstFailure('vote-without-up-to-date-check', 40, 20_000)
    expect(found?.failure?.invariant).toMatch(/Leader Completeness|State Machine Safety|Log Matching|Get returns|Linearizability/)
  })

  it('a leader that does not step down on a higher term', () => {
    const found = firstFailure('no-step-down', 150, 20_000)
    expect(found?.failure?.invariant).toMatch(/Election Safety|Leader Append-Only|Log Matching/)
  })

  it('gets answered by a deposed leader', () => {
    const found = firstFailure('get-from-deposed-leader', 150, 20_000)
    expect(found?.failure?.invariant).toMatch(/Get returns the latest acknowledged put|Linearizability/)
  })
})

describe('the explorer finds a leader that commits an entry of an earlier term by counting (Figure 8)', () => {
  const search = figure8Search()

  it('the mutant: an entry committed in term 4 is missing from the leader of term 5', () => {
    const result = explore({ ...search, step: mutants['commit-previous-term'].step })
    const found = result.counterexample
    expect(found, 'the mutant went unnoticed').toBeDefined()
    expect(found!.violation.invariant).toMatch(/^(Leader Completeness|State Machine Safety)$/)
    // The entry counted as committed is 0000's no-op of term 2, at index 1.
    expect(found!.violation.detail).toMatch(/2:noop committed at 1/)
    const path = found!.path.join('\n')
    // 0002 stored the term-2 entry from the leader of term 4 ...
    expect(path).toMatch(/deliver append 0000->0002 \(leader 0000\) term 4 prev 0\/0 entries \[2:noop\]/)
    // ... and the leader of term 5 is 0001, whose log holds its own entry of term 3 at index 1.
    expect(path).toMatch(/deliver voteReply 0002->0001 .* term 5 granted/)
  })

  it('the real reducer: the same search, run to exhaustion, finds nothing', () => {
    const result = explore({ ...search, step: realStep })
    if (result.counterexample !== undefined) expect.fail(describeCounterexample(result.counterexample))
    expect(result.complete).toBe(true)
    // The search reaches elections of both terms: it is not vacuous.
    expect(result.depthReached).toBeGreaterThan(15)
    expect(result.statesExplored).toBeGreaterThan(1_000)
  })
})
