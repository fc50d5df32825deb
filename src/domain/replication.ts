/**
 * Log replication (§5.3): AppendEntries out, its handling at the follower, replies back at the
 * leader with fast backtracking, and commitment by counting (§5.4.2).
 */
import * as O from 'fp-ts/Option'
import { send } from '../effects/effect'
import { leaderField, type StepContext } from './context'
import { armElectionTimer, becomeFollower } from './election'
import { entriesFrom, entryAt, firstIndexOfTermAt, lastIndex, lastIndexOfTerm, mergeEntries, termAt } from './log'
import { expireInFlight, firstRoundCommitUnlikely, isResponsive, pipeFull, recordAnswer, recordSend, resendFrom } from './progress'
import { majority, quorumValue } from './quorum'
import { sendSnapshotPieces } from './snapshot'
import { clusterSize, withPersistent, type Progress, type ProgressTable, type ReplicaState } from './state'
import type { AppendEntries, AppendEntriesReply, NodeId, PutCommand } from './wire'

/**
 * Sends `peer` everything from `p.nextIndex` on (at most a batch), and assumes it will arrive:
 * returns the follower's progress after the send.
 */
const sendAppendFrom = (s: ReplicaState, ctx: StepContext, peer: NodeId, p: Progress): Progress => {
  // An earlier send still unanswered after a retransmission interval was most likely lost (answers
  // take milliseconds): start from the last entry known to match, or the follower would have to
  // reject this one for the gap and wait a round trip for the entries it lacks.
  const nextIndex = p.inFlight.length > 0 && ctx.now - p.inFlight[0]! >= s.settings.timing.retransmitMs ? resendFrom(p) : p.nextIndex
  const log = s.persistent.log
  // §7: "the leader must occasionally send snapshots to followers that lag behind".
  if (nextIndex <= log.snapshotIndex) return sendSnapshotPieces(s, ctx, peer, { ...p, nextIndex }, p.snapshotOffset, 'resend')
  const prevLogIndex = nextIndex - 1
  const entries = entriesFrom(log, nextIndex, s.settings.limits.maxEntriesPerAppend)
  ctx.effects.push(
    send({
      src: s.id,
      dst: peer,
      leader: leaderField(s),
      type: 'append',
      term: s.persistent.currentTerm,
      prevLogIndex,
      prevLogTerm: termAt(log, prevLogIndex) ?? 0,
      entries,
      leaderCommit: s.commitIndex,
      sentAt: ctx.now,
    }),
  )
  return recordSend(p, ctx.now, prevLogIndex + entries.length, s.settings.limits)
}

/** Sends each of `peers` an AppendEntries from its nextIndex on; returns the leader's new progress table. */
export const sendAppends = (s: ReplicaState, ctx: StepContext, peers: readonly NodeId[]): ProgressTable => {
  let progress = s.progress
  for (const peer of peers) {
    const p = progress[peer]
    if (p !== undefined) progress = { ...progress, [peer]: sendAppendFrom(s, ctx, peer, p) }
  }
  return progress
}

/**
 * New entries for each of `peers`: sent at once where the pipe is free, held for the answer where
 * it is full (progress.ts, pipeFull). Returns the leader's new progress table.
 */
export const offerNewEntries = (s: ReplicaState, ctx: StepContext, peers: readonly NodeId[]): ProgressTable => {
  let progress = s.progress
  for (const peer of peers) {
    const p = progress[peer]
    if (p === undefined) continue
    const after = pipeFull(p, ctx.now, s.settings, s.peers.length) ? { ...p, entriesWaiting: true } : sendAppendFrom(s, ctx, peer, p)
    progress = { ...progress, [peer]: after }
  }
  return progress
}

/** After an answer from `peer`: the entries held back for it go now, if its pipe is free. */
const sendWaitingEntries = (s: ReplicaState, ctx: StepContext, peer: NodeId, p: Progress): Progress =>
  p.entriesWaiting && !pipeFull(p, ctx.now, s.settings, s.peers.length) && p.nextIndex <= lastIndex(s.persistent.log)
    ? sendAppendFrom(s, ctx, peer, p)
    : p

/**
 * The leader's periodic duty to each follower: a heartbeat if it has heard nothing for a heartbeat
 * interval (§5.2), and a retransmission from its matchIndex if entries it lacks may have been lost.
 */
export const heartbeatOrRetransmit = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const last = lastIndex(s.persistent.log)
  const repairNow = repairFast(s)
  let progress = s.progress
  for (const peer of s.peers) {
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
      after = sendAppendFrom(s, ctx, peer, { ...p, nextIndex: resendFrom(p) })
    } else if (idle >= s.settings.timing.heartbeatMs) {
      after = sendAppendFrom(s, ctx, peer, p)
    }
    if (after !== before) progress = { ...progress, [peer]: after }
  }
  return progress === s.progress ? s : { ...s, progress }
}

/**
 * Whether lost datagrams should be repaired fast: an entry waits to commit, and the network loses
 * so much that a first-round commit is unlikely even with every responsive follower asked. On a
 * network that loses little, the rare repair waits for the tick and costs no extra datagrams.
 */
export const repairFast = (s: ReplicaState): boolean =>
  s.commitIndex < lastIndex(s.persistent.log) &&
  firstRoundCommitUnlikely(s.progress, majority(clusterSize(s)) - 1, s.settings)

/** The leader's tick comes sooner while lost entries are being repaired fast. */
export const nextTickMs = (s: ReplicaState): number =>
  repairFast(s) ? s.settings.timing.retransmitMs : s.settings.timing.heartbeatMs / 2

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
    return { ...following, ...heard }
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
    return { ...following, ...heard }
  }
  // 3 and 4: drop conflicting entries, append new ones.
  const merged = mergeEntries(log, m.prevLogIndex, m.entries)
  const matchIndex = m.prevLogIndex + m.entries.length
  reply(following, { success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 })
  const after: ReplicaState = {
    ...following,
    ...heard,
    persistent: merged.log === log ? following.persistent : withPersistent(following.persistent, { log: merged.log }),
    // 5. "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)".
    commitIndex: Math.max(following.commitIndex, Math.min(m.leaderCommit, matchIndex)),
  }
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

/**
 * A put we appended as leader and that is no longer in our log was lost to a newer leader's
 * entries; it was never answered, so it is handed to the current leader, which appends it unless
 * it already has it. Sent again every few heartbeats until it is applied.
 */
const forwardLostPuts = (s: ReplicaState, ctx: StepContext, leader: NodeId): ReplicaState => {
  let ownPuts = s.ownPuts
  const lost: PutCommand[] = []
  for (const [mid, own] of s.ownPuts.entries()) {
    if (isStillInLog(s, own.index, own.put.MID)) continue
    if (ctx.now - own.forwardedAt < 2 * s.settings.timing.heartbeatMs) continue
    ownPuts = ownPuts.set(mid, { ...own, forwardedAt: ctx.now })
    lost.push(own.put)
  }
  if (lost.length === 0) return s
  ctx.effects.push(send({ src: s.id, dst: leader, leader: leaderField(s), type: 'forward', puts: lost }))
  return { ...s, ownPuts }
}

export const isStillInLog = (s: ReplicaState, index: number, mid: string): boolean => {
  const command = entryAt(s.persistent.log, index)?.command
  return command?.op === 'put' && command.MID === mid
}

/** The leader's handling of a reply of its term (step.ts applies the term rule). */
export const onAppendEntriesReply = (s: ReplicaState, ctx: StepContext, m: AppendEntriesReply): ReplicaState => {
  const before = s.progress[m.src]
  if (before === undefined) return s
  const answered = recordAnswer(before, m.sentAt)
  const ackedSentAt = Math.max(answered.ackedSentAt, m.sentAt)
  if (m.success) {
    const matchIndex = Math.max(answered.matchIndex, m.matchIndex)
    const p: Progress = { ...answered, ackedSentAt, matchIndex, nextIndex: Math.max(answered.nextIndex, matchIndex + 1) }
    return advanceCommitIndex({ ...s, progress: { ...s.progress, [m.src]: sendWaitingEntries(s, ctx, m.src, p) } })
  }
  // §5.3: "After a rejection, the leader decrements nextIndex and retries"; with the conflict
  // hint it skips the whole conflicting term at once. Once: the AppendEntries pipelined before
  // the retry are rejected too, and each would otherwise send the same entries again (at a new
  // leader with many followers, a burst big enough to overflow the simulator's socket buffer).
  const p: Progress = { ...answered, ackedSentAt }
  if (m.sentAt < p.rewoundAt) return { ...s, progress: { ...s.progress, [m.src]: sendWaitingEntries(s, ctx, m.src, p) } }
  const lastOfTerm = m.conflictTerm === 0 ? undefined : lastIndexOfTerm(s.persistent.log, m.conflictTerm)
  const hinted = lastOfTerm === undefined ? m.conflictIndex : lastOfTerm + 1
  const next = Math.max(p.matchIndex + 1, Math.min(hinted, lastIndex(s.persistent.log) + 1))
  const after =
    next < p.nextIndex
      ? sendAppendFrom(s, ctx, m.src, { ...p, nextIndex: next, probeFrom: next, rewoundAt: ctx.now })
      : sendWaitingEntries(s, ctx, m.src, p)
  return { ...s, progress: { ...s.progress, [m.src]: after } }
}

/**
 * Figure 2, leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] ≥ N, and log[N].term == currentTerm: set commitIndex = N".
 */
export const advanceCommitIndex = (s: ReplicaState): ReplicaState => {
  const matches = [lastIndex(s.persistent.log), ...s.peers.map((peer) => s.progress[peer]?.matchIndex ?? 0)]
  const n = quorumValue(matches)
  // §5.4.2: only entries of the current term are committed by counting replicas.
  return n > s.commitIndex && termAt(s.persistent.log, n) === s.persistent.currentTerm ? { ...s, commitIndex: n } : s
}
