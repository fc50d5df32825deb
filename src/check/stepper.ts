/** The reducer's signature, so that the checks can drive the real `step` or a mutant of it. */
import { freeze } from 'immer'
import type { Effect } from '../domain/effect'
import type { Event } from '../domain/events'
import type { ReplicaState } from '../domain/state'
import { step } from '../domain/step'

export type Stepper = (state: ReplicaState, event: Event) => readonly [ReplicaState, readonly Effect[]]

export const realStep: Stepper = step

/**
 * The real reducer with the state it is given and everything it returns deep-frozen (immer's
 * `freeze`): a handler that wrote into a state, or an effect shared with one, would throw here. The
 * tests drive the reducer through it, and the checkers do with `--freeze`; the running replica
 * does not pay for it.
 */
export const freezing =
  (inner: Stepper): Stepper =>
  (state, event) => {
    const [next, effects] = inner(freeze(state, true), event)
    return [freeze(next, true), freeze(effects, true)]
  }

export const frozenStep: Stepper = freezing(step)
