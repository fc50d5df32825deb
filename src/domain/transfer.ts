/**
 * Leadership transfer (thesis §3.10): "the prior leader stops accepting new client requests", brings
 * the target's log up to date, and "sends a TimeoutNow request to the target server. This request
 * has the same effect as the target server's election timer firing": the target campaigns at once,
 * without a pre-vote, and its vote requests say so, so that voters grant them inside the read lease
 * (§4.2.3 disregards only disruptive campaigns). "If the transfer does not complete within an
 * election timeout, the prior leader aborts the transfer and resumes accepting client requests."
 *
 * Those voters no longer keep the promise the read lease rests on (reads.ts), so a leader that has
 * sent a TimeoutNow never answers a get from its lease again in that term: after an aborted
 * transfer, a get waits for an entry appended after it to commit (thesis §6.4's ReadIndex
 * argument: a leader that commits an entry of its term after the get arrived was still the
 * leader then).
 */
import { log, send } from './effect'
import { leaderField, type StepContext } from './context'
import { lastIndex } from './log'
import { isVoter } from './membership'
import { pendingReadsHeld } from './client-requests'
import { answerAdmin, refuse } from './reconfiguration'
import { sendToFollowers } from './send-to-follower'
import { type ReplicaState, withState } from './state'
import type { AdminRequest, NodeId, TimeoutNow } from './wire'

/** An operator asks the leader to hand over to `target`. */
export const startTransfer = (s: ReplicaState, ctx: StepContext, request: AdminRequest, target: NodeId): ReplicaState => {
  if (target === s.id) {
    answerAdmin(s, ctx, request.src, request.MID)
    return s
  }
  if (!isVoter(s.configuration, target)) {
    refuse(s, ctx, request, `${target} is not a voter of the cluster: only a voter can lead`, false)
    return s
  }
  if (s.duties.transfer !== undefined) {
    refuse(s, ctx, request, `leadership is being transferred to ${s.duties.transfer.target} already`, true)
    return s
  }
  ctx.effects.push(log(`transferring leadership to ${target}`))
  const transferring: ReplicaState = withState(
    s,
    {
      duties: {
        ...s.duties,
        transfer: { target, deadline: ctx.now + s.settings.timing.electionTimeoutMaxMs, timeoutNowSent: false, client: request.src, MID: request.MID },
      },
    },
    // Gets waiting to be confirmed wait for the outcome with the other requests.
    pendingReadsHeld(s),
  )
  if (caughtUp(transferring, target)) return sendTimeoutNow(transferring, ctx)
  return withState(transferring, { progress: sendToFollowers(transferring, ctx, [target]) })
}

const caughtUp = (s: ReplicaState, target: NodeId): boolean => (s.progress[target]?.matchIndex ?? 0) >= lastIndex(s.persistent.log)

/** After `peer` acknowledged entries: the TimeoutNow goes once the target holds the leader's whole log. */
export const continueTransfer = (s: ReplicaState, ctx: StepContext, peer: NodeId): ReplicaState =>
  s.duties.transfer !== undefined && s.duties.transfer.target === peer && !s.duties.transfer.timeoutNowSent && caughtUp(s, peer)
    ? sendTimeoutNow(s, ctx)
    : s

const sendTimeoutNow = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const transfer = s.duties.transfer!
  ctx.effects.push(send({ src: s.id, dst: transfer.target, leader: leaderField(s), type: 'timeoutNow', term: s.persistent.currentTerm }))
  answerAdmin(s, ctx, transfer.client, transfer.MID)
  // The lease is revoked from now on in this term: gets wait for an entry appended after them.
  return withState(s, { duties: { ...s.duties, transfer: { ...transfer, timeoutNowSent: true }, readBarrier: s.duties.readBarrier ?? 0 } })
}

/** At the leader's tick: a transfer an election timeout old has failed, and the leader resumes. */
export const abortTransferIfLate = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const transfer = s.duties.transfer
  if (transfer === undefined || ctx.now < transfer.deadline) return s
  ctx.effects.push(log(`leadership transfer to ${transfer.target} did not complete within an election timeout: resuming`))
  if (!transfer.timeoutNowSent) {
    ctx.effects.push(
      send({
        src: s.id,
        dst: transfer.client,
        leader: leaderField(s),
        type: 'refused',
        MID: transfer.MID,
        reason: `${transfer.target} did not catch up within an election timeout`,
      }),
    )
  }
  return withState(s, { duties: { ...s.duties, transfer: undefined } })
}

/** At the target: a TimeoutNow of its term from its leader starts its campaign at once (no pre-vote). */
export const shouldCampaignNow = (s: ReplicaState, m: TimeoutNow): boolean =>
  s.role === 'follower' && m.term === s.persistent.currentTerm && isVoter(s.configuration, s.id)
