/**
 * The replica as a pure reducer: `step(state, event)` returns the next state and the effects to
 * perform, like etcd's Step and Ready in one call. Rules every role shares live here: the term
 * rule, vote requests, and what follows every event (apply what is committed, answer what waits).
 */
import * as O from 'fp-ts/Option'
import { log, send, type Effect } from './effect'
import { applyCommitted } from './apply'
import { persistEffect } from './durability'
import { answerWaiting } from './client-requests'
import type { StepContext } from './context'
import { armFirstElectionTimer, becomeFollower, onRequestVote, onVoteRetryTimer, refuseVote, startPreVote, withinLeaderLease } from './election'
import type { Event } from './events'
import { onHeartbeatTick, stepLeader } from './leader'
import { stepCandidate } from './candidate'
import { stepFollower } from './follower'
import type { RaftOrClientMessage } from './messages'
import { rejectAppendEntries } from './replication'
import { compactIfDue, rejectInstallSnapshot } from './snapshot'
import type { ReplicaState } from './state'
import { BROADCAST, UNKNOWN_LEADER, type Forward, type Message, type RaftMessage } from './wire'

export type StepResult = readonly [ReplicaState, readonly Effect[]]

export const step = (state: ReplicaState, event: Event): StepResult => {
  const ctx: StepContext = { now: event.now, effects: [] }
  const next = settle(handle(state, ctx, event), ctx)
  // Figure 2: what changed of the persistent state is stored before anything else is done.
  const persist = persistEffect(state.persistent, next.persistent)
  if (persist === undefined) return [next, ctx.effects]
  return [forgetOverwritten(next, persist), [persist, ...ctx.effects]]
}

/**
 * Entries of the log recovered at start-up that a step overwrote (a newer leader's, or a snapshot
 * installed in place of the log) were not recovered: recoveredUpTo stops before them. A leader
 * never overwrites its own log, so the puts it answers on applying them are judged right.
 */
const forgetOverwritten = (s: ReplicaState, persist: Effect): ReplicaState => {
  const from = persist.kind === 'persist' ? persist.log?.from : undefined
  return from !== undefined && from <= s.recoveredUpTo ? { ...s, recoveredUpTo: from - 1 } : s
}

const handle = (s: ReplicaState, ctx: StepContext, event: Event): ReplicaState => {
  switch (event.kind) {
    case 'started':
      return onStarted(s, ctx)
    case 'timerFired':
      if (event.timer === 'election') return s.role === 'leader' ? s : startPreVote(s, ctx)
      if (event.timer === 'heartbeat') return s.role === 'leader' ? onHeartbeatTick(s, ctx) : s
      return onVoteRetryTimer(s, ctx)
    case 'received':
      return onMessage(s, ctx, event.message)
  }
}

/**
 * Start-up (or restart with the persistent state kept): say hello to the simulator, and wait a
 * whole election timeout, and a grace for the rest of the cluster to start, before campaigning. A replica restarting with a term may have
 * acknowledged a leader just before it went down, so start-up counts as contact with a leader:
 * it will not vote inside a lease it helped grant. A brand-new replica has acknowledged nobody.
 */
const onStarted = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  ctx.effects.push(send({ src: s.id, dst: BROADCAST, leader: UNKNOWN_LEADER, type: 'hello' }))
  return armFirstElectionTimer(s.persistent.currentTerm > 0 ? { ...s, lastLeaderContact: ctx.now } : s, ctx)
}

const onMessage = (s: ReplicaState, ctx: StepContext, m: Message): ReplicaState => {
  if (m.dst !== s.id && m.dst !== BROADCAST) {
    ctx.effects.push(log(`ignored a ${m.type} for ${m.dst}`))
    return s
  }
  switch (m.type) {
    case 'vote':
    case 'voteReply':
    case 'append':
    case 'appendReply':
    case 'forward':
    case 'snapshot':
    case 'snapshotReply':
      if (!s.peers.includes(m.src)) {
        ctx.effects.push(log(`ignored a ${m.type} from ${m.src}, not a peer`))
        return s
      }
      return onRaftMessage(s, ctx, m)
    case 'get':
    case 'put':
    case 'delete':
    case 'cas':
      return stepByRole(s, ctx, m)
    case 'hello':
    case 'ok':
    case 'redirect':
    case 'fail':
      ctx.effects.push(log(`ignored a ${m.type} from ${m.src}`))
      return s
  }
}

/**
 * The term rule, applied here once for every Raft message before it reaches a handler, so that
 * every handler sees a message of the current term (a forwarded put carries no term):
 * - Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set
 *   currentTerm = T, convert to follower (§5.1)". An AppendEntries or InstallSnapshot of that term
 *   comes from its leader, which we then follow; a reply of a newer term has nothing more to say.
 * - §5.1: "If a server receives a request with a stale term number, it rejects the request";
 *   a reply of a stale term answers something this replica no longer does, and is dropped.
 * Two exceptions, both for messages whose term nobody holds yet:
 * - thesis §9.6, pre-vote: a pre-vote request names the term its sender would campaign in, and a
 *   granted pre-vote the term it was granted for; neither moves anyone to that term.
 * - thesis §4.2.3 (§6, "disruptive servers"), which the read lease relies on: a replica that heard
 *   from its leader within the minimum election timeout disregards a vote request of a newer
 *   term; it refuses it without taking its term.
 */
const onRaftMessage = (s: ReplicaState, ctx: StepContext, m: RaftMessage): ReplicaState => {
  if (m.type === 'forward') return stepByRole(s, ctx, m)
  const currentTerm = s.persistent.currentTerm
  if (m.term < currentTerm) return rejectStale(s, ctx, m)
  if (m.type === 'vote') {
    if (m.term === currentTerm || m.pre) return onRequestVote(s, ctx, m)
    if (withinLeaderLease(s, ctx.now)) return refuseVote(s, ctx, m)
    return onRequestVote(becomeFollower(s, ctx, m.term, O.none), ctx, m)
  }
  if (m.term === currentTerm || (m.type === 'voteReply' && m.pre && m.granted)) return stepByRole(s, ctx, m)
  const fromLeader = m.type === 'append' || m.type === 'snapshot'
  const follower = becomeFollower(s, ctx, m.term, fromLeader ? O.some(m.src) : O.none)
  return fromLeader ? stepByRole(follower, ctx, m) : follower
}

/**
 * §5.1: a request of a stale term is rejected with our term, which tells its sender of the newer
 * one: an AppendEntries gets "false" (Figure 2, receiver implementation 1), an InstallSnapshot an
 * immediate reply (Figure 13, 1), a vote request a refusal. A leader leaves a stale leader's
 * AppendEntries and InstallSnapshot unanswered: its own AppendEntries carry the newer term to that
 * replica within a heartbeat. A stale reply is dropped.
 */
const rejectStale = (s: ReplicaState, ctx: StepContext, m: Exclude<RaftMessage, Forward>): ReplicaState => {
  switch (m.type) {
    case 'vote':
      return refuseVote(s, ctx, m)
    case 'append':
      if (s.role !== 'leader') rejectAppendEntries(s, ctx, m)
      return s
    case 'snapshot':
      if (s.role !== 'leader') rejectInstallSnapshot(s, ctx, m)
      return s
    default:
      return s
  }
}

const stepByRole = (s: ReplicaState, ctx: StepContext, m: RaftOrClientMessage): ReplicaState => {
  switch (s.role) {
    case 'leader':
      return stepLeader(s, ctx, m)
    case 'preCandidate':
    case 'candidate':
      return stepCandidate(s, ctx, m)
    case 'follower':
      return stepFollower(s, ctx, m)
  }
}

/** After every event: apply what is committed (and compact the log if that is due), then answer whatever was waiting and now can be. */
const settle = (s: ReplicaState, ctx: StepContext): ReplicaState => answerWaiting(compactIfDue(applyCommitted(s, ctx), ctx), ctx)
