/**
 * What a handler works with while `step` runs: the draft of the next state is passed separately;
 * this holds the event's time and the effects collected so far, in order.
 */
import * as O from 'fp-ts/Option'
import { current, isDraft, type Draft } from 'immer'
import type { Effect } from '../effects/effect'
import type { ReplicaState } from './state'
import { UNKNOWN_LEADER, type NodeId } from './wire'

export interface StepContext {
  readonly now: number
  readonly effects: Effect[]
}

/** The fields every datagram from this replica carries. */
export const envelope = (state: ReplicaState, dst: NodeId) => ({
  src: state.id,
  dst,
  leader: O.getOrElse(() => UNKNOWN_LEADER)(state.leader),
})

/**
 * A plain copy of a value read through the draft state. Effects outlive `step`, and the draft's
 * proxies are revoked when it returns: whatever an effect carries from the state goes through this.
 */
export const plain = <T>(value: T): T => (isDraft(value) ? (current(value as Draft<T>) as T) : value)
