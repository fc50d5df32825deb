/**
 * An operator's requests (list the configuration, add, promote or remove a member, transfer
 * leadership): carried out by the leader, redirected to it by the others, refused by a replica
 * that is not a member.
 */
import * as O from 'fp-ts/Option'
import { reachableLeader, redirect } from './client-requests'
import type { StepContext } from './context'
import { replicateNewEntries } from './new-entries'
import { isMember } from './membership'
import { answerAdmin, notAMember, onChangeRequest, refuse } from './reconfiguration'
import type { ReplicaState } from './state'
import { startTransfer } from './transfer'
import type { AdminRequest } from './wire'

export const onAdminRequest = (s: ReplicaState, ctx: StepContext, m: AdminRequest): ReplicaState => {
  if (!isMember(s.configuration, s.id)) {
    refuse(s, ctx, m, notAMember(s), true)
    return s
  }
  if (s.role !== 'leader') {
    const leader = reachableLeader(s)
    if (O.isSome(leader)) return redirect(s, ctx, m, leader.value)
    refuse(s, ctx, m, `replica ${s.id} knows no leader at the moment; try again`, true)
    return s
  }
  if (m.action === 'list') {
    answerAdmin(s, ctx, m.src, m.MID)
    return s
  }
  if (m.member === undefined) {
    refuse(s, ctx, m, `${m.action} needs a member`, false)
    return s
  }
  if (m.action === 'transfer') return startTransfer(s, ctx, m, m.member)
  // §4.1: the change goes out at once, to the members of the configuration it makes.
  return replicateNewEntries(s, ctx, onChangeRequest(s, ctx, m, m.action, m.member))
}
