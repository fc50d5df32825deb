/**
 * Membership changes in the reducer (thesis ch. 4; the rules themselves are in membership.ts): the
 * configuration taken into use as soon as its entry is in the log, an operator's change at the
 * leader, learners caught up before they are promoted, and a leader that removed itself stepping
 * down once the change commits.
 */
import * as O from 'fp-ts/Option'
import { log, send } from './effect'
import { leaderField, type StepContext } from './context'
import { becomeFollower } from './election'
import { appendToLog, entryAt, lastIndex, type Log } from './log'
import {
  applyChange,
  changeBlockedBecause,
  configCommand,
  configurationAt,
  describeConfiguration,
  isMember,
  isVoter,
  lastConfigIndex,
  othersIn,
  sameConfiguration,
  type ChangeAction,
  type Configuration,
} from './membership'
import { freshProgress, type Progress, withFollower } from './progress'
import { sendToFollowers } from './send-to-follower'
import { forwardOwnPuts } from './client-requests'
import { type ReplicaState, withPersistent, withState } from './state'
import type { AdminRequest, ClientRequest, NodeId } from './wire'

/**
 * §4.1: "a server always uses the latest configuration in its log, regardless of whether the entry
 * is committed". After a step that changed the log (or the snapshot), the configuration in use is
 * found again: for an append, only the new entries are looked at; after a truncation or an
 * installed snapshot, the log from its end.
 */
export const followLogConfiguration = (before: ReplicaState, after: ReplicaState, ctx: StepContext): ReplicaState => {
  const was = before.persistent
  const now = after.persistent
  if (was.log === now.log && was.snapshotConfiguration === now.snapshotConfiguration) return after
  const oldLast = lastIndex(was.log)
  const appendedOnly =
    was.snapshotConfiguration === now.snapshotConfiguration &&
    oldLast >= now.log.snapshotIndex &&
    lastIndex(now.log) >= oldLast &&
    (oldLast === now.log.snapshotIndex || entryAt(now.log, oldLast) === entryAt(was.log, oldLast))
  if (appendedOnly && !appendsConfiguration(now.log, oldLast)) return after
  const inUse = configurationAt(now.log, now.snapshotConfiguration ?? after.initialConfiguration)
  return sameConfiguration(inUse, after.configuration) ? after : adoptConfiguration(after, ctx, inUse)
}

/** Whether an entry after `from` in `log` is a configuration entry. */
const appendsConfiguration = (log: Log, from: number): boolean => {
  for (let i = from + 1; i <= lastIndex(log); i++) if (entryAt(log, i)!.command.op === 'config') return true
  return false
}

/**
 * The replica uses `configuration` from now on: it replicates to its members if it leads (a new
 * member starts from the leader's next index, and is probed back from there). Requests it holds
 * when the configuration leaves it out are refused as the step settles (refuseHeldIfNotMember).
 */
export const adoptConfiguration = (s: ReplicaState, ctx: StepContext, configuration: Configuration): ReplicaState => {
  ctx.effects.push(log(`configuration: ${describeConfiguration(configuration)}`))
  const peers = othersIn(configuration, s.id, s.peers)
  let next: ReplicaState = withState(s, { configuration, peers })
  if (s.role === 'leader') {
    const progress: Record<string, Progress> = {}
    for (const peer of peers) progress[peer] = s.progress[peer] ?? freshProgress(lastIndex(s.persistent.log) + 1)
    // A member just removed is still sent the log up to the entry that removes it (tellRemoved).
    for (const peer in s.progress) if (progress[peer] === undefined && peer !== s.id) progress[peer] = s.progress[peer]!
    next = withState(next, { progress })
    // Thesis §3.10: a transfer to a replica that is no longer a voter cannot complete.
    const transfer = s.duties.transfer
    if (transfer !== undefined && !isVoter(configuration, transfer.target)) next = withState(next, { duties: { ...s.duties, transfer: undefined } })
  }
  return next
}

/**
 * After every event: a replica outside its configuration refuses the requests it holds, nobody
 * being about to tell it of a leader: those it held when it took up the configuration that leaves
 * it out, and the gets a leader that removed itself held on stepping down (on the commit of its
 * removal, or by check-quorum), which never touched the log.
 */
export const refuseHeldIfNotMember = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.held.length === 0 || isMember(s.configuration, s.id)) return s
  return refuseHeld(s, ctx, notAMember(s))
}

/**
 * On its election timeout, a learner that has heard from no leader for that long cannot make one,
 * and may never hear from one: a leader that removed it while it was down does not know it is back
 * (a voter would campaign, and be told of its removal: tellRemoved). So it refuses the requests it
 * holds, and their clients try another replica.
 */
export const refuseHeldIfLeaderless = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.held.length === 0 || !isMember(s.configuration, s.id) || isVoter(s.configuration, s.id)) return s
  return refuseHeld(s, ctx, `replica ${s.id} is a learner (it does not vote) and has heard from no leader for an election timeout: try another replica`)
}

/** Refuses every request the replica holds, for `reason`; a client may retry elsewhere. */
const refuseHeld = (s: ReplicaState, ctx: StepContext, reason: string): ReplicaState => {
  for (const request of s.held) refuse(s, ctx, request, reason, true)
  return withState(s, { held: [] })
}

/**
 * A member that was removed learns it only from the entry that removes it: otherwise it would hold
 * its clients' requests and campaign for ever, unheard (§4.2.3 keeps it from disrupting anyone,
 * not from waiting). So the leader goes on sending it the log until it holds the latest
 * configuration entry, and then lets it go; and a leader that hears a vote request from a replica
 * outside its configuration (one removed under an earlier leader) starts sending it the log.
 */
export const tellRemoved = (s: ReplicaState, ctx: StepContext, peer: NodeId): ReplicaState => {
  if (s.role !== 'leader' || peer === s.id || isMember(s.configuration, peer) || s.progress[peer] !== undefined) return s
  const progress = withFollower(s.progress, peer, freshProgress(lastIndex(s.persistent.log) + 1))
  return withState(s, { progress: sendToFollowers(withState(s, { progress }), ctx, [peer]) })
}

/**
 * A replica outside its configuration hears from no leader once it holds its removal, so the
 * writes of its own not yet applied (appended while it led, lost to a newer leader's entries or
 * waiting uncommitted in its log) would never be answered: on each election timeout it forwards
 * them to every voter. The leader among them appends those it lacks, answers those it holds once
 * applied, and sends the replica the log again (tellRemoved), letting it go once it holds its
 * removal (releaseIfTold); the replica forwards again on each election timeout while any of them
 * is still unapplied here.
 */
export const forwardOwnPutsWhileRemoved = (s: ReplicaState, ctx: StepContext): ReplicaState =>
  s.ownPuts.size === 0 || isMember(s.configuration, s.id) ? s : forwardOwnPuts(s, ctx, s.configuration.voters, () => true)

/**
 * After an answer from `peer`: a removed member that holds the latest configuration entry is let go.
 * An entry compacted into our snapshot is held only by a replica that has the snapshot's last index.
 */
export const releaseIfTold = (s: ReplicaState, peer: NodeId): ReplicaState => {
  const p = s.progress[peer]
  if (p === undefined || isMember(s.configuration, peer) || p.matchIndex < latestConfigurationIndex(s)) return s
  const { [peer]: _told, ...progress } = s.progress
  return withState(s, { progress })
}

/** The index of the latest configuration entry, in the log or compacted into the snapshot; 0 for the first configuration. */
const latestConfigurationIndex = (s: ReplicaState): number =>
  lastConfigIndex(s.persistent.log) ?? (s.persistent.snapshotConfiguration === undefined ? 0 : s.persistent.log.snapshotIndex)

/** Why a replica outside its configuration does not serve clients. */
export const notAMember = (s: ReplicaState): string =>
  `replica ${s.id} is not a member of the cluster (${describeConfiguration(s.configuration)}): it was removed, or has not been added yet`

/** Refuses a request with its reason; `retry`: a later attempt, or another replica, may succeed. */
export const refuse = (s: ReplicaState, ctx: StepContext, request: ClientRequest | AdminRequest, reason: string, retry: boolean): void => {
  const refused = { src: s.id, dst: request.src, leader: leaderField(s), type: 'refused' as const, MID: request.MID, reason }
  ctx.effects.push(send(retry ? { ...refused, retry: true as const } : refused))
}

export const answerAdmin = (s: ReplicaState, ctx: StepContext, client: NodeId, MID: string): void => {
  const c = s.configuration
  ctx.effects.push(
    send({ src: s.id, dst: client, leader: leaderField(s), type: 'adminReply', MID, voters: [...c.voters], learners: [...c.learners], addresses: { ...c.addresses } }),
  )
}

/**
 * Thesis §4.2.1: a learner is promoted only "once the new server's log has caught up": it holds
 * everything the leader has committed.
 */
const caughtUp = (s: ReplicaState, member: NodeId): boolean => (s.progress[member]?.matchIndex ?? 0) >= s.commitIndex

/**
 * An operator's change at the leader: refused with its reason when it is not a single-server
 * change or must wait (membership.ts, changeBlockedBecause); answered at once when it holds
 * already and has committed; otherwise appended, taken into use at once (§4.1), and answered when
 * its entry commits.
 */
export const onChangeRequest = (s: ReplicaState, ctx: StepContext, request: AdminRequest, action: ChangeAction, member: NodeId): ReplicaState => {
  const change = applyChange(s.configuration, action, member, request.addresses)
  if ('refused' in change) {
    refuse(s, ctx, request, change.refused, false)
    return s
  }
  const blocked = changeBlockedBecause(s.persistent.log, s.commitIndex, s.persistent.currentTerm)
  if (change.ok === undefined) {
    // Already so: a retry of a change that went through, once that change has committed.
    if (blocked === undefined) answerAdmin(s, ctx, request.src, request.MID)
    else refuse(s, ctx, request, `not yet: ${blocked}`, true)
    return s
  }
  if (blocked !== undefined) {
    refuse(s, ctx, request, `not now: ${blocked}; try again`, true)
    return s
  }
  if (s.duties.transfer !== undefined) {
    refuse(s, ctx, request, `not now: leadership is being transferred to ${s.duties.transfer.target}`, true)
    return s
  }
  if (action === 'promote' && !caughtUp(s, member)) {
    refuse(s, ctx, request, `${member} has not caught up yet (it holds ${s.progress[member]?.matchIndex ?? 0} of ${s.commitIndex} committed entries); try again`, true)
    return s
  }
  const term = s.persistent.currentTerm
  const appended = appendToLog(s.persistent.log, [{ term, command: configCommand(change.ok) }])
  ctx.effects.push(log(`appended a configuration change at ${lastIndex(appended)}: ${action} ${member}`))
  const withEntry: ReplicaState = withState(s, {
    persistent: withPersistent(s.persistent, { log: appended }),
    duties: { ...s.duties, pendingChange: { index: lastIndex(appended), client: request.src, MID: request.MID } },
  })
  return adoptConfiguration(withEntry, ctx, change.ok)
}

/**
 * After entries commit at the leader: the operator whose change committed is answered, and a
 * leader that is not a voter of its committed configuration steps down (thesis §4.2.2: "the
 * leader steps down ... once the Cnew entry is committed"); until then it led a cluster that
 * did not include it, not counting itself in majorities.
 */
export const afterCommit = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  let next = s
  const pending = s.duties.pendingChange
  if (pending !== undefined && s.commitIndex >= pending.index) {
    answerAdmin(s, ctx, pending.client, pending.MID)
    next = withState(next, { duties: { ...next.duties, pendingChange: undefined } })
  }
  if (isVoter(next.configuration, next.id)) return next
  const at = lastConfigIndex(next.persistent.log) ?? 0
  if (next.commitIndex < at) return next
  ctx.effects.push(log(`stepping down: removed from the cluster by the entry at ${at}, now committed`))
  return becomeFollower(next, ctx, next.persistent.currentTerm, O.none)
}
