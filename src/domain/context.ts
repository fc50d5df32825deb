/**
 * What a handler works with besides the state it is given: the event's time and the effects
 * collected so far, in order. A handler returns the next state and pushes its effects here.
 */
import * as O from 'fp-ts/Option'
import type { Effect } from './effect'
import type { ReplicaState } from './state'
import { UNKNOWN_LEADER, type NodeId } from './wire'

export interface StepContext {
  readonly now: number
  readonly effects: Effect[]
}

/** The `leader` field of every datagram this replica sends: the leader it knows, or `FFFF`. */
export const leaderField = (state: ReplicaState): NodeId => (O.isSome(state.leader) ? state.leader.value : UNKNOWN_LEADER)
