/**
 * The leader's side: taking office, client requests, forwarded puts, replies from followers and
 * the heartbeat tick with check-quorum.
 */
import * as O from 'fp-ts/Option'
import { castDraft } from 'immer'
import { cancelTimer, log, setTimer } from '../effects/effect'
import { answerGet, putCommand } from './clients'
import { plain, type StepContext } from './context'
import { becomeFollower } from './election'
import { hasApplied } from './kv'
import { appendToLog, lastIndex } from './log'
import { chooseFanout, freshProgress } from './progress'
import { majority } from './quorum'
import { canServeReads, lastQuorumContact } from './reads'
import { heartbeatOrRetransmit, isStillInLog, nextTickMs, onAppendEntriesReply, sendAppend } from './replication'
import { clusterSize, updatePersistent, type MutableState } from './state'
import type { RaftOrClientMessage } from './messages'
import type { ClientRequest, Forward, PutCommand } from './wire'

/**
 * §5.2/§5.3: the new leader sets every nextIndex just past its log and every matchIndex to 0; §8:
 * it appends a no-op of its term, which goes out at once as its first heartbeat. Puts it had
 * appended in an earlier term and lost since are appended again.
 */
export const becomeLeader = (s: MutableState, ctx: StepContext): void => {
  s.role = 'leader'
  s.leader = O.some(s.id)
  s.unreachableLeader = O.none
  s.leaderSince = ctx.now
  s.votesGranted = []
  updatePersistent(s, { log: appendToLog(s.persistent.log, [{ term: s.persistent.currentTerm, command: { op: 'noop' } }]) })
  s.progress = castDraft(Object.fromEntries(s.peers.map((peer) => [peer, freshProgress(lastIndex(s.persistent.log))])))
  ctx.effects.push(log(`leader in term ${s.persistent.currentTerm}`))
  ctx.effects.push(cancelTimer('election'), cancelTimer('voteRetry'))
  armTick(s, ctx, nextTickMs(s))
  const lost = Object.values(s.ownPuts).filter((own) => !isStillInLog(s, own.index, own.put.MID))
  appendPuts(
    s,
    ctx,
    lost.map((own) => plain(own.put)),
  )
  for (const peer of s.peers) sendAppend(s, ctx, peer)
}

/** A client request at the leader: a put enters the log; a get is answered under the lease or waits for it. */
export const onRequestAsLeader = (s: MutableState, ctx: StepContext, request: ClientRequest): void => {
  if (request.type === 'get') {
    if (canServeReads(s, ctx.now)) answerGet(s, ctx, request)
    else s.pendingReads.push(request)
    return
  }
  if (appendPuts(s, ctx, [putCommand(request)]) > 0) replicate(s, ctx)
}

/** Puts handed over by a deposed leader that lost them (see replication.forwardLostPuts). */
export const onForward = (s: MutableState, ctx: StepContext, m: Forward): void => {
  if (appendPuts(s, ctx, m.puts) > 0) replicate(s, ctx)
}

/** Appends the puts that are neither applied nor waiting in the log already; returns how many. */
const appendPuts = (s: MutableState, ctx: StepContext, puts: readonly PutCommand[]): number => {
  let appended = 0
  for (const put of puts) {
    if (hasApplied(s.kv, put.MID) || isInUncommittedLog(s, put.MID)) continue
    updatePersistent(s, { log: appendToLog(s.persistent.log, [{ term: s.persistent.currentTerm, command: put }]) })
    s.ownPuts[put.MID] = { put, index: lastIndex(s.persistent.log), forwardedAt: 0 }
    appended++
  }
  if (appended > 0) ctx.effects.push(log(`appended ${appended} put(s) up to ${lastIndex(s.persistent.log)}`))
  return appended
}

const isInUncommittedLog = (s: MutableState, mid: string): boolean => {
  const log = s.persistent.log
  for (let i = log.length - 1; i > s.commitIndex; i--) {
    const command = log[i]!.command
    if (command.op === 'put' && command.MID === mid) return true
  }
  return false
}

/** New entries go at once to as many followers as a likely first-round commit needs. */
const replicate = (s: MutableState, ctx: StepContext): void => {
  const need = majority(clusterSize(s)) - 1
  for (const peer of chooseFanout(s.progress, need, s.timing)) sendAppend(s, ctx, peer)
  // Bring the tick forward if fast repair calls for it, never later: a stream of puts must not
  // postpone heartbeats and check-quorum.
  if (ctx.now + nextTickMs(s) < s.tickDueAt) armTick(s, ctx, nextTickMs(s))
}

const armTick = (s: MutableState, ctx: StepContext, afterMs: number): void => {
  s.tickDueAt = ctx.now + afterMs
  ctx.effects.push(setTimer('heartbeat', afterMs))
}

/** The leader's step function. */
export const stepLeader = (s: MutableState, ctx: StepContext, m: RaftOrClientMessage): void => {
  switch (m.type) {
    case 'get':
    case 'put':
      return onRequestAsLeader(s, ctx, m)
    case 'appendReply':
      return onAppendEntriesReply(s, ctx, m)
    case 'forward':
      return onForward(s, ctx, m)
    default:
      // Votes of a campaign we won already, and AppendEntries of our own term from nobody (Election Safety).
      return
  }
}

/**
 * Every half heartbeat interval: step down if a majority has not been heard from for a maximum
 * election timeout (check-quorum), else heartbeat idle followers and retransmit to lagging ones.
 */
export const onHeartbeatTick = (s: MutableState, ctx: StepContext): void => {
  if (ctx.now - lastQuorumContact(s, ctx.now) > s.timing.electionTimeoutMaxMs) {
    ctx.effects.push(log('check-quorum: no majority heard from, stepping down'))
    becomeFollower(s, ctx, s.persistent.currentTerm, O.none)
    return
  }
  heartbeatOrRetransmit(s, ctx)
  armTick(s, ctx, nextTickMs(s))
}
