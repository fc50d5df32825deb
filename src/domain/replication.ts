/**
 * Log replication (§5.3): AppendEntries out, its handling at the follower, replies back at the
 * leader with fast backtracking, and commitment by counting (§5.4.2).
 */
import * as O from 'fp-ts/Option'
import { send } from '../effects/effect'
import { envelope, plain, type StepContext } from './context'
import { becomeFollower, resetElectionTimer } from './election'
import { entriesFrom, firstIndexOfTermAt, lastIndex, lastIndexOfTerm, mergeEntries, termAt } from './log'
import { expireInFlight, firstRoundCommitUnlikely, isResponsive, recordAnswer, recordSend } from './progress'
import { majority, quorumValue } from './quorum'
import { clusterSize, updatePersistent, type MutableState } from './state'
import type { AppendEntries, AppendEntriesReply, NodeId, PutCommand } from './wire'

/** Sends `peer` everything from its nextIndex on (at most a batch), and assumes it will arrive. */
export const sendAppend = (s: MutableState, ctx: StepContext, peer: NodeId): void => {
  const p = s.progress[peer]
  if (p === undefined) return
  // An earlier send still unanswered after a retransmission interval was most likely lost (answers
  // take milliseconds): start from the last entry known to match, or the follower would have to
  // reject this one for the gap and wait a round trip for the entries it lacks.
  if (p.inFlight.length > 0 && ctx.now - p.inFlight[0]! >= s.timing.retransmitMs) p.nextIndex = p.matchIndex + 1
  const log = s.persistent.log
  const prevLogIndex = p.nextIndex - 1
  const entries = entriesFrom(log, p.nextIndex, s.timing.maxEntriesPerAppend)
  ctx.effects.push(
    send({
      ...envelope(s, peer),
      type: 'append',
      term: s.persistent.currentTerm,
      prevLogIndex,
      prevLogTerm: termAt(log, prevLogIndex) ?? 0,
      entries,
      leaderCommit: s.commitIndex,
      sentAt: ctx.now,
    }),
  )
  // Optimistic pipelining: the next send continues after these entries; a rejection rewinds it.
  p.nextIndex = prevLogIndex + entries.length + 1
  recordSend(p, ctx.now)
}

/**
 * The leader's periodic duty to each follower: a heartbeat if it has heard nothing for a heartbeat
 * interval (§5.2), and a retransmission from its matchIndex if entries it lacks may have been lost.
 */
export const heartbeatOrRetransmit = (s: MutableState, ctx: StepContext): void => {
  const last = lastIndex(s.persistent.log)
  const repairNow = repairFast(s)
  for (const peer of s.peers) {
    const p = s.progress[peer]
    if (p === undefined) continue
    expireInFlight(p, ctx.now, s.timing.heartbeatMs)
    const idle = ctx.now - p.lastSentAt
    const lagging = p.matchIndex < last
    // Fast repair only for a follower that answers at all and has few sends unanswered: one cut
    // off by a partition falls back to the heartbeat's pace instead of drawing a stream of resends.
    const fast = repairNow && isResponsive(p, s.timing) && p.inFlight.length < MAX_FAST_RESENDS
    const retransmitAfter = fast ? s.timing.retransmitMs : s.timing.heartbeatMs / 2
    if (lagging && idle >= retransmitAfter) {
      // Whatever we sent since matchIndex went unanswered for a while: send it again.
      p.nextIndex = p.matchIndex + 1
      sendAppend(s, ctx, peer)
    } else if (idle >= s.timing.heartbeatMs) {
      sendAppend(s, ctx, peer)
    }
  }
}

/** How many unanswered sends a follower may have and still get fast resends. */
const MAX_FAST_RESENDS = 3

/**
 * Whether lost datagrams should be repaired fast: an entry waits to commit, and the network loses
 * so much that a first-round commit is unlikely even with every responsive follower asked. On a
 * network that loses little, the rare repair waits for the tick and costs no extra datagrams.
 */
export const repairFast = (s: MutableState): boolean =>
  s.commitIndex < lastIndex(s.persistent.log) &&
  firstRoundCommitUnlikely(s.progress, majority(clusterSize(s)) - 1, s.timing)

/** The leader's tick comes sooner while lost entries are being repaired fast. */
export const nextTickMs = (s: MutableState): number =>
  repairFast(s) ? s.timing.retransmitMs : s.timing.heartbeatMs / 2

/** Figure 2, AppendEntries receiver implementation (the term rule has been applied by the caller). */
export const onAppendEntries = (s: MutableState, ctx: StepContext, m: AppendEntries): void => {
  const reply = (fields: Pick<AppendEntriesReply, 'success' | 'matchIndex' | 'conflictIndex' | 'conflictTerm'>) =>
    ctx.effects.push(
      send({ ...envelope(s, m.src), type: 'appendReply', term: s.persistent.currentTerm, sentAt: m.sentAt, ...fields }),
    )
  // 1. "Reply false if term < currentTerm (§5.1)".
  if (m.term < s.persistent.currentTerm) {
    reply({ success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0 })
    return
  }
  // §5.2: a candidate that hears from a leader of its term (or newer) returns to follower.
  if (m.term > s.persistent.currentTerm || s.role !== 'follower' || !isLeader(s.leader, m.src)) {
    becomeFollower(s, ctx, m.term, O.some(m.src))
  } else {
    resetElectionTimer(s, ctx)
  }
  s.lastLeaderContact = ctx.now
  if (O.isSome(s.unreachableLeader) && s.unreachableLeader.value === m.src) s.unreachableLeader = O.none

  const log = s.persistent.log
  // 2. "Reply false if log doesn't contain an entry at prevLogIndex whose term matches prevLogTerm".
  if (m.prevLogIndex > lastIndex(log)) {
    reply({ success: false, matchIndex: 0, conflictIndex: lastIndex(log) + 1, conflictTerm: 0 })
    return
  }
  const termThere = termAt(log, m.prevLogIndex)!
  if (termThere !== m.prevLogTerm) {
    reply({
      success: false,
      matchIndex: 0,
      conflictIndex: firstIndexOfTermAt(log, m.prevLogIndex),
      conflictTerm: termThere,
    })
    return
  }
  // 3 and 4: drop conflicting entries, append new ones.
  const merged = mergeEntries(log, m.prevLogIndex, m.entries)
  if (merged.log !== log) updatePersistent(s, { log: merged.log })
  const matchIndex = m.prevLogIndex + m.entries.length
  // 5. "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry)".
  s.commitIndex = Math.max(s.commitIndex, Math.min(m.leaderCommit, matchIndex))
  reply({ success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 })
  forwardLostPuts(s, ctx, m.src)
}

const isLeader = (leader: O.Option<NodeId>, id: NodeId): boolean => O.isSome(leader) && leader.value === id

/**
 * A put we appended as leader and that is no longer in our log was lost to a newer leader's
 * entries; it was never answered, so it is handed to the current leader, which appends it unless
 * it already has it. Sent again every few heartbeats until it is applied.
 */
const forwardLostPuts = (s: MutableState, ctx: StepContext, leader: NodeId): void => {
  const lost: PutCommand[] = []
  for (const own of Object.values(s.ownPuts)) {
    if (isStillInLog(s, own.index, own.put.MID)) continue
    if (ctx.now - own.forwardedAt < 2 * s.timing.heartbeatMs) continue
    own.forwardedAt = ctx.now
    lost.push(plain(own.put))
  }
  if (lost.length > 0) ctx.effects.push(send({ ...envelope(s, leader), type: 'forward', puts: lost }))
}

export const isStillInLog = (s: MutableState, index: number, mid: string): boolean => {
  const command = s.persistent.log[index]?.command
  return command?.op === 'put' && command.MID === mid
}

/** The leader's handling of a reply; the term rule has been applied by the caller. */
export const onAppendEntriesReply = (s: MutableState, ctx: StepContext, m: AppendEntriesReply): void => {
  const p = s.progress[m.src]
  if (p === undefined || m.term < s.persistent.currentTerm) return
  recordAnswer(p, m.sentAt)
  p.ackedSentAt = Math.max(p.ackedSentAt, m.sentAt)
  if (m.success) {
    p.matchIndex = Math.max(p.matchIndex, m.matchIndex)
    p.nextIndex = Math.max(p.nextIndex, p.matchIndex + 1)
    advanceCommitIndex(s)
    return
  }
  // §5.3: "After a rejection, the leader decrements nextIndex and retries"; with the conflict
  // hint it skips the whole conflicting term at once.
  const hinted =
    m.conflictTerm === 0
      ? m.conflictIndex
      : (() => {
          const last = lastIndexOfTerm(s.persistent.log, m.conflictTerm)
          return last === undefined ? m.conflictIndex : last + 1
        })()
  const next = Math.max(p.matchIndex + 1, Math.min(hinted, lastIndex(s.persistent.log) + 1))
  if (next < p.nextIndex) {
    p.nextIndex = next
    sendAppend(s, ctx, m.src)
  }
}

/**
 * Figure 2, leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] ≥ N, and log[N].term == currentTerm: set commitIndex = N".
 */
export const advanceCommitIndex = (s: MutableState): void => {
  const matches = [lastIndex(s.persistent.log), ...s.peers.map((peer) => s.progress[peer]?.matchIndex ?? 0)]
  const n = quorumValue(matches)
  // §5.4.2: only entries of the current term are committed by counting replicas.
  if (n > s.commitIndex && termAt(s.persistent.log, n) === s.persistent.currentTerm) s.commitIndex = n
}
