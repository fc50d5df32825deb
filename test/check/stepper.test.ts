/** `freezing`: how the tests and `--freeze` catch a handler that writes into a state. */
import { describe, expect, it } from 'vitest'
import { sweepBase } from '../../src/check/sweep'
import { freezing, realStep, type Stepper } from '../../src/check/stepper'
import { started } from '../../src/domain/events'
import { initialState } from '../../src/domain/state'
import type { NodeId } from '../../src/domain/wire'

const ids = ['0000', '0001', '0002'] as NodeId[]

describe('freezing', () => {
  it('throws when a stepper writes into the state it was given, and returns frozen states and effects', () => {
    const writes: Stepper = (state, event) => {
      ;(state as { commitIndex: number }).commitIndex = 7
      return realStep(state, event)
    }
    const state = initialState({ id: ids[0]!, peers: ids, seed: 1 })
    expect(() => freezing(writes)({ ...state }, started(0))).toThrow(TypeError)
    const [next, effects] = freezing(realStep)({ ...state }, started(0))
    expect(Object.isFrozen(next)).toBe(true)
    expect(Object.isFrozen(effects)).toBe(true)
    expect(effects.every((effect) => Object.isFrozen(effect))).toBe(true)
  })

  it('check:sim --freeze drives the reducer through it', () => {
    expect(sweepBase({ seconds: 1, replicas: 3, mutant: undefined, freeze: false }).step).toBeUndefined()
    const frozen = sweepBase({ seconds: 1, replicas: 3, mutant: undefined, freeze: true }).step!
    const [next] = frozen(initialState({ id: ids[0]!, peers: ids, seed: 1 }), started(0))
    expect(Object.isFrozen(next)).toBe(true)
  })
})
