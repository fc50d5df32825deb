/**
 * Log replication (§5.3): the leader's heartbeats and retransmissions, AppendEntries at the
 * follower, replies back at the leader with fast backtracking, and commitment by counting (§5.4.2).
 * Sending itself is send-to-follower.ts's.
 */
import * as O from 'fp-ts/Option'
import { send } from './effect'
import { leaderField, type StepContext } from './context'
import { armElectionTimer, becomeFollower } from './election'
import { forwardLostPuts } from './client-requests'
import { isResponsive } from './fanout'
import { firstIndexOfTermAt, lastIndex, lastIndexOfTerm, mergeEntries, termAt } from './log'
import { advanceCommitIndex } from './commit'
import { repairFast } from './new-entries'
import { expireInFlight, maybeDecrTo, maybeUpdate, recordAck, recordAnswer, rewindForResend, withFollower } from './progress'
import { sendToFollower, sendWaitingEntries } from './send-to-follower'
import { type ReplicaState, withPersistent, withState } from './state'
import type { AppendEntries, AppendEntriesReply, NodeId } from './wire'

/**
 * The leader's periodic duty to each follower: a heartbeat if it has heard nothing for a heartbeat
 * interval (§5.2), and a retransmission from its matchIndex if entries it lacks may have been lost.
 */
export const heartbeatOrRetransmit = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const last = lastIndex(s.persistent.log)
  const repairNow = repairFast(s)
  let progress = s.progress
  // Every follower the leader tracks: its configuration's members, and members it removed that have
  // not yet acknowledged their removal (reconfiguration.ts).
  for (const peer of Object.keys(s.progress) as NodeId[]) {
    const before = progress[peer]
    if (before === undefined) continue
    const p = expireInFlight(before, ctx.now, s.settings.timing.heartbeatMs)
    const idle = ctx.now - p.lastSentAt
    const lagging = p.matchIndex < last
    // Fast repair only for a follower that answers at all and has few sends unanswered: one cut
    // off by a partition falls back to the heartbeat's pace instead of drawing a stream of resends.
    const fast = repairNow && isResponsive(p, s.settings.timing) && p.inFlight.length < s.settings.limits.maxFastResends
    const retransmitAfter = fast ? s.settings.timing.retransmitMs : s.settings.timing.heartbeatMs / 2
    let after = p
    if (lagging && idle >= retransmitAfter) {
      // Whatever we sent since matchIndex went unanswered for a while: send it again.
      after = sendToFollower(s, ctx, peer, rewindForResend(p))
    } else if (idle >= s.settings.timing.heartbeatMs) {
      after = sendToFollower(s, ctx, peer, p)
    }
    if (after !== before) progress = withFollower(progress, peer, after)
  }
  return progress === s.progress ? s : withState(s, { progress })
}

type ReplyFields = Pick<AppendEntriesReply, 'success' | 'matchIndex' | 'conflictIndex' | 'conflictTerm'>

const replyToAppend = (s: ReplicaState, ctx: StepContext, m: AppendEntries, { success, matchIndex, conflictIndex, conflictTerm }: ReplyFields): void => {
  ctx.effects.push(
    send({
      src: s.id,
      dst: m.src,
      leader: leaderField(s),
      type: 'appendReply',
      term: s.persistent.currentTerm,
      success,
      matchIndex,
      conflictIndex,
      conflictTerm,
      sentAt: m.sentAt,
    }),
  )
}

/** Figure 2, AppendEntries receiver implementation 1: "Reply false if term < currentTerm (§5.1)" (step.ts applies it). */
export const rejectAppendEntries = (s: ReplicaState, ctx: StepContext, m: AppendEntries): void =>
  replyToAppend(s, ctx, m, { success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0 })

/** Figure 2, AppendEntries receiver implementation 2 to 5, for an AppendEntries of our term (step.ts applies the term rule). */
export const onAppendEntries = (before: ReplicaState, ctx: StepContext, m: AppendEntries): ReplicaState => {
  const reply = (s: ReplicaState, fields: ReplyFields): void => replyToAppend(s, ctx, m, fields)
  const [following, heard] = hearFromLeader(before, ctx, m.src, m.term)
  const log = following.persistent.log
  // 2. "Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm".
  if (m.prevLogIndex > lastIndex(log)) {
    reply(following, { success: false, matchIndex: 0, conflictIndex: lastIndex(log) + 1, conflictTerm: 0 })
    return withState(following, heard)
  }
  // Before our snapshot's end every entry is committed, so it matches the leader's (§5.4.3).
  const termThere = m.prevLogIndex < log.snapshotIndex ? m.prevLogTerm : termAt(log, m.prevLogIndex)!
  if (termThere !== m.prevLogTerm) {
    reply(following, {
      success: false,
      matchIndex: 0,
      conflictIndex: firstIndexOfTermAt(log, m.prevLogIndex),
      conflictTerm: termThere,
    })
    return withState(following, heard)
  }
  // 3 and 4: drop conflicting entries, append new ones.
  const merged = mergeEntries(log, m.prevLogIndex, m.entries)
  const matchIndex = m.prevLogIndex + m.entries.length
  reply(following, { success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 })
  const after: ReplicaState = withState(following, heard, {
    persistent: merged === log ? following.persistent : withPersistent(following.persistent, { log: merged }),
    // 5. "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)".
    commitIndex: Math.max(following.commitIndex, Math.min(m.leaderCommit, matchIndex)),
    leaderRecoveredUpTo: m.recoveredUpTo ?? 0,
  })
  return forwardLostPuts(after, ctx, m.src)
}

const isLeader = (leader: O.Option<NodeId>, id: NodeId): boolean => O.isSome(leader) && leader.value === id

/** What hearing from a leader changes besides the role: the election timer, the contact, who is unreachable. */
export type LeaderContact = Pick<ReplicaState, 'random' | 'lastLeaderContact' | 'unreachableLeader'>

/**
 * What hearing from the leader of a term at least ours changes, whatever the answer: §5.2, a
 * candidate that hears from a leader of its term returns to follower (a newer term has made us a
 * follower of the sender already: step.ts applies the term rule to every RPC), and the election
 * timer starts again. Returned apart, for the caller to spread once with its own changes (one copy
 * of the state per event: an AppendEntries is on every put's path).
 */
export const hearFromLeader = (before: ReplicaState, ctx: StepContext, leader: NodeId, term: number): readonly [ReplicaState, LeaderContact] => {
  const following =
    before.role !== 'follower' || !isLeader(before.leader, leader) ? becomeFollower(before, ctx, term, O.some(leader)) : before
  return [
    following,
    {
      random: following === before ? armElectionTimer(before, ctx) : following.random,
      lastLeaderContact: ctx.now,
      unreachableLeader: isLeader(following.unreachableLeader, leader) ? O.none : following.unreachableLeader,
    },
  ]
}

/** The leader's handling of a reply of its term (step.ts applies the term rule). */
export const onAppendEntriesReply = (s: ReplicaState, ctx: StepContext, m: AppendEntriesReply): ReplicaState => {
  const before = s.progress[m.src]
  if (before === undefined) return s
  const p = recordAck(recordAnswer(before, m.sentAt), m.sentAt)
  if (m.success) {
    const updated = maybeUpdate(p, m.matchIndex)
    return advanceCommitIndex(withState(s, { progress: withFollower(s.progress, m.src, sendWaitingEntries(s, ctx, m.src, updated)) }))
  }
  // §5.3: with the conflict hint the leader skips the whole conflicting term at once: to just past
  // its own last entry of that term if it has one, else to the follower's first of it.
  const lastOfTerm = m.conflictTerm === 0 ? undefined : lastIndexOfTerm(s.persistent.log, m.conflictTerm)
  const hinted = lastOfTerm === undefined ? m.conflictIndex : lastOfTerm + 1
  const decreased = maybeDecrTo(p, hinted, lastIndex(s.persistent.log), m.sentAt, ctx.now)
  const after = decreased !== p ? sendToFollower(s, ctx, m.src, decreased) : sendWaitingEntries(s, ctx, m.src, p)
  return withState(s, { progress: withFollower(s.progress, m.src, after) })
}

