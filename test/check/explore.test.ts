import { describe, expect, it } from 'vitest'
import { describeCounterexample, explore } from '../../src/check/explore'
import { realStep } from '../../src/check/stepper'

describe('bounded exhaustive exploration', () => {
  it('finds no counterexample within a small bound and reports its reach', () => {
    const result = explore({ step: realStep, bounds: { maxDepth: 7, maxStates: 4_000 } })
    if (result.counterexample !== undefined) expect.fail(describeCounterexample(result.counterexample))
    expect(result.statesExplored).toBeGreaterThan(100)
    expect(result.depthReached).toBeGreaterThan(3)
  })
})
