/**
 * The leader's side: taking office, client requests, forwarded puts, replies from followers and
 * the heartbeat tick with check-quorum.
 */
import * as O from 'fp-ts/Option'
import { cancelTimer, log, setTimer } from '../effects/effect'
import { answerGet, putCommand, replyOk } from './clients'
import type { StepContext } from './context'
import { becomeFollower } from './election'
import { hasApplied } from './kv'
import { appendToLog, entryAt, lastIndex } from './log'
import { chooseFanout } from './fanout'
import { freshProgress, type Progress } from './progress'
import { majority } from './quorum'
import { canServeReads, lastQuorumContact } from './reads'
import { heartbeatOrRetransmit, isStillInLog, nextTickMs, onAppendEntriesReply } from './replication'
import { offerNewEntries, sendToFollowers } from './send-to-follower'
import { onInstallSnapshotReply } from './snapshot'
import { clusterSize, withPersistent, type ReplicaState } from './state'
import type { RaftOrClientMessage } from './messages'
import type { ClientRequest, Entry, Forward, PutCommand } from './wire'

/**
 * §5.2/§5.3: the new leader sets every nextIndex just past its log and every matchIndex to 0; §8:
 * it appends a no-op of its term, which goes out at once as its first heartbeat. Puts it had
 * appended in an earlier term and lost since are appended again.
 */
export const becomeLeader = (candidate: ReplicaState, ctx: StepContext): ReplicaState => {
  const term = candidate.persistent.currentTerm
  const withNoop = appendToLog(candidate.persistent.log, [{ term, command: { op: 'noop' } }])
  const progress: Record<string, Progress> = {}
  for (const peer of candidate.peers) progress[peer] = freshProgress(lastIndex(withNoop))
  const s: ReplicaState = {
    ...candidate,
    role: 'leader',
    leader: O.some(candidate.id),
    unreachableLeader: O.none,
    leaderSince: ctx.now,
    votesGranted: [],
    persistent: withPersistent(candidate.persistent, { log: withNoop }),
    progress,
  }
  ctx.effects.push(log(`leader in term ${term}`))
  ctx.effects.push(cancelTimer('election'), cancelTimer('voteRetry'))
  const ticking = armTick(s, ctx, nextTickMs(s))
  const lost: PutCommand[] = []
  for (const [, own] of s.ownPuts.entries()) {
    if (!isStillInLog(s, own.index, own.put.MID)) lost.push(own.put)
  }
  const withLost = appendPuts(ticking, ctx, lost)
  return { ...withLost, progress: sendToFollowers(withLost, ctx, withLost.peers) }
}

/** A client request at the leader: a put enters the log; a get is answered under the lease or waits for it. */
export const onRequestAsLeader = (s: ReplicaState, ctx: StepContext, request: ClientRequest): ReplicaState => {
  if (request.type === 'get') {
    if (!canServeReads(s, ctx.now)) return { ...s, pendingReads: [...s.pendingReads, request] }
    answerGet(s, ctx, request)
    return s
  }
  if (s.settings.clients === 'standalone' && hasApplied(s.kv, request.MID)) {
    // A retry of a write that took effect already (its first answer was lost, or went out from another leader).
    replyOk(s, ctx, request.src, request.MID)
    return s
  }
  return replicateNew(s, ctx, appendPuts(s, ctx, [putCommand(request)]))
}

/** Puts handed over by a deposed leader that lost them (see replication.forwardLostPuts). */
export const onForward = (s: ReplicaState, ctx: StepContext, m: Forward): ReplicaState =>
  replicateNew(s, ctx, appendPuts(s, ctx, m.puts))

/** Appends the puts that are neither applied nor waiting in the log already. */
const appendPuts = (s: ReplicaState, ctx: StepContext, puts: readonly PutCommand[]): ReplicaState => {
  const term = s.persistent.currentTerm
  const entries: Entry[] = []
  let ownPuts = s.ownPuts
  for (const put of puts) {
    if (hasApplied(s.kv, put.MID) || isInUncommittedLog(s, put.MID) || entries.some((e) => isPut(e, put.MID))) continue
    entries.push({ term, command: put })
    ownPuts = ownPuts.set(put.MID, { put, index: lastIndex(s.persistent.log) + entries.length, forwardedAt: 0 })
  }
  if (entries.length === 0) return s
  const appended = appendToLog(s.persistent.log, entries)
  ctx.effects.push(log(`appended ${entries.length} put(s) up to ${lastIndex(appended)}`))
  return { ...s, persistent: withPersistent(s.persistent, { log: appended }), ownPuts }
}

const isPut = (entry: Entry, mid: string): boolean => entry.command.op === 'put' && entry.command.MID === mid

const isInUncommittedLog = (s: ReplicaState, mid: string): boolean => {
  const log = s.persistent.log
  for (let i = lastIndex(log); i > s.commitIndex; i--) {
    if (isPut(entryAt(log, i)!, mid)) return true
  }
  return false
}

/** New entries (if `s` has any that `before` had not) go at once to as many followers as a likely first-round commit needs. */
const replicateNew = (before: ReplicaState, ctx: StepContext, s: ReplicaState): ReplicaState => {
  if (s === before) return s
  const need = majority(clusterSize(s)) - 1
  const sent: ReplicaState = { ...s, progress: offerNewEntries(s, ctx, chooseFanout(s.progress, need, s.settings)) }
  // Bring the tick forward if fast repair calls for it, never later: a stream of puts must not
  // postpone heartbeats and check-quorum.
  const tickMs = nextTickMs(sent)
  return ctx.now + tickMs < sent.tickDueAt ? armTick(sent, ctx, tickMs) : sent
}

const armTick = (s: ReplicaState, ctx: StepContext, afterMs: number): ReplicaState => {
  ctx.effects.push(setTimer('heartbeat', afterMs))
  return { ...s, tickDueAt: ctx.now + afterMs }
}

/** The leader's step function. */
export const stepLeader = (s: ReplicaState, ctx: StepContext, m: RaftOrClientMessage): ReplicaState => {
  switch (m.type) {
    case 'get':
    case 'put':
      return onRequestAsLeader(s, ctx, m)
    case 'appendReply':
      return onAppendEntriesReply(s, ctx, m)
    case 'snapshotReply':
      return onInstallSnapshotReply(s, ctx, m)
    case 'forward':
      return onForward(s, ctx, m)
    default:
      // Votes of a campaign we won already, and AppendEntries of our own term from nobody (Election Safety).
      return s
  }
}

/**
 * Every half heartbeat interval: step down if a majority has not been heard from for a maximum
 * election timeout (check-quorum), else heartbeat idle followers and retransmit to lagging ones.
 */
export const onHeartbeatTick = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (ctx.now - lastQuorumContact(s, ctx.now) > s.settings.timing.electionTimeoutMaxMs) {
    ctx.effects.push(log('check-quorum: no majority heard from, stepping down'))
    return becomeFollower(s, ctx, s.persistent.currentTerm, O.none)
  }
  const sent = heartbeatOrRetransmit(s, ctx)
  return armTick(sent, ctx, nextTickMs(sent))
}
