import { describe, expect, it } from 'vitest'
import { simulate, sweepOptions, type SimResult } from '../../src/check/cluster'
import { mutants, type MutantName } from '../../src/check/mutants'

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
    const found = firstFailure('get-from-deposed-leader', 60, 20_000)
    expect(found?.failure?.invariant).toMatch(/Get returns the latest acknowledged put|Linearizability/)
  })
})
