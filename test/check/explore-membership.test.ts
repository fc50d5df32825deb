/**
 * The explorer over a membership change with three replicas (thesis ch. 4): every interleaving of
 * the operator's change with the deliveries, drops and timers after it, from an elected leader.
 */
import { describe, expect, it } from 'vitest'
import { describeCounterexample, explore } from '../../src/check/explore'
import type { ExploreBounds } from '../../src/check/explore-options'
import { mutants } from '../../src/check/mutants'
import { realStep } from '../../src/check/stepper'
import type { NodeId } from '../../src/domain/wire'

const removal: Partial<ExploreBounds> = {
  maxDepth: 7,
  maxStates: 6_000,
  maxLogLength: 4,
  requests: [
    { kind: 'admin', action: 'remove', member: '0002' as NodeId },
    { kind: 'put', key: 'k', value: 'v1' },
  ],
}

describe('the explorer covers a membership change with three replicas', () => {
  it('the real reducer: the leader removes 0002 in every interleaving, and no check fails', () => {
    const result = explore({ step: realStep, start: 'leader', bounds: removal })
    if (result.counterexample !== undefined) expect.fail(describeCounterexample(result.counterexample))
    // The change was reached: replicas took a new configuration on the explored paths.
    expect(result.configurationChanges).toBeGreaterThan(0)
    expect(result.statesExplored).toBeGreaterThan(1_000)
  })

  it('a replica that uses the latest committed configuration: Configuration from the log', () => {
    const result = explore({ step: mutants['configuration-at-commit'].step, start: 'leader', bounds: removal })
    expect(result.counterexample?.violation.invariant).toBe('Configuration from the log')
  })

  it('a leader that appends a second change before the first commits: One configuration change at a time', () => {
    const twoChanges: Partial<ExploreBounds> = {
      ...removal,
      requests: [
        { kind: 'admin', action: 'remove', member: '0002' as NodeId },
        { kind: 'admin', action: 'add', member: '0002' as NodeId },
      ],
    }
    const result = explore({ step: mutants['two-changes-in-flight'].step, start: 'leader', bounds: twoChanges })
    expect(result.counterexample?.violation.invariant).toBe('One configuration change at a time')
    const control = explore({ step: realStep, start: 'leader', bounds: twoChanges })
    if (control.counterexample !== undefined) expect.fail(describeCounterexample(control.counterexample))
  })
})
