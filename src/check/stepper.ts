/** The reducer's signature, so that the checks can drive the real `step` or a mutant of it. */
import type { Effect } from '../effects/effect'
import type { Event } from '../domain/events'
import type { ReplicaState } from '../domain/state'
import { step } from '../domain/step'

export type Stepper = (state: ReplicaState, event: Event) => readonly [ReplicaState, readonly Effect[]]

export const realStep: Stepper = step
