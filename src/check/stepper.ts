/** The real reducer, and the reducer deep-frozen, for the checks and the tests (the type: domain/step.ts). */
import { freeze } from 'immer'
import { step, type Stepper } from '../domain/step'

export type { Stepper } from '../domain/step'

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
