/**
 * The replica as a pure reducer: `step(state, event)` returns the next state and the effects to
 * perform, like etcd's Step and Ready in one call. Rules every role shares live here: the term
 * rule, vote requests, and what follows every event (apply what is committed, answer what waits).
 */
import * as O from 'fp-ts/Option'
import { log, send, type Effect } from './effect'
import { applyCommitted } from './apply'
import { persistEffect } from './durability'
import { onAdminRequest } from './admin'
import { answerWaiting } from './client-requests'
import type { StepContext } from './context'
import { armFirstElectionTimer, becomeFollower, onRequestVote, onVoteRetryTimer, refuseVote, withinLeaderLease } from './election'
import type { Event } from './events'
import { onHeartbeatTick, stepLeader } from './leader'
import { campaign, stepCandidate } from './candidate'
import { stepFollower } from './follower'
import { isMember } from './membership'
import type { RaftOrClientMessage } from './messages'
import { rejectAppendEntries } from './replication'
import { compactIfDue, rejectInstallSnapshot } from './snapshot'
import {
  afterCommit,
  followLogConfiguration,
  forwardOwnPutsWhileRemoved,
  notAMember,
  refuse,
  refuseHeldIfLeaderless,
  refuseHeldIfNotMember,
  tellRemoved,
} from './reconfiguration'
import { type ReplicaState, withState } from './state'
import { BROADCAST, UNKNOWN_LEADER, type Forward, type Message, type RaftMessage, type RequestVote } from './wire'

export type StepResult = readonly [ReplicaState, readonly Effect[]]

/** The reducer's signature, so that a driver can run the real `step` or a mutant of it (check/mutants.ts). */
export type Stepper = (state: ReplicaState, event: Event) => StepResult

export const step = (state: ReplicaState, event: Event): StepResult => {
  const ctx: StepContext = { now: event.now, effects: [] }
  // §4.1: the configuration in use follows the log after every event, before anything is settled.
  const next = settle(followLogConfiguration(state, handle(state, ctx, event), ctx), ctx)
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
  return from !== undefined && from <= s.recoveredUpTo ? withState(s, { recoveredUpTo: from - 1 }) : s
}

const handle = (s: ReplicaState, ctx: StepContext, event: Event): ReplicaState => {
  switch (event.kind) {
    case 'started':
      return onStarted(s, ctx)
    case 'timerFired':
      if (event.timer === 'election') return s.role === 'leader' ? s : campaign(refuseHeldIfLeaderless(forwardOwnPutsWhileRemoved(s, ctx), ctx), ctx)
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
  return armFirstElectionTimer(s.persistent.currentTerm > 0 ? withState(s, { lastLeaderContact: ctx.now }) : s, ctx)
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
    case 'timeoutNow':
      if (!mayHearFrom(s, m)) {
        ctx.effects.push(log(`ignored a ${m.type} from ${m.src}, not a peer`))
        return s
      }
      return onRaftMessage(s, ctx, m)
    case 'get':
    case 'put':
    case 'delete':
    case 'cas':
      // A replica outside its configuration (removed, or not yet added) serves nobody: nobody
      // would tell it of a leader, and its state machine no longer follows the cluster's.
      if (isMember(s.configuration, s.id)) return stepByRole(s, ctx, m)
      refuse(s, ctx, m, notAMember(s), true)
      return s
    case 'admin':
      return onAdminRequest(s, ctx, m)
    case 'hello':
    case 'ok':
    case 'redirect':
    case 'fail':
    case 'adminReply':
    case 'refused':
      ctx.effects.push(log(`ignored a ${m.type} from ${m.src}`))
      return s
  }
}

/**
 * Whom Raft messages are taken from: the members of the configuration in use and of the first one
 * (the course's cluster: every replica named at start-up). Thesis §4.1: a replica also "accepts
 * AppendEntries requests from a leader that is not part of the server's latest configuration" and
 * "grants its vote to a candidate that is not part of" it (a member its log does not know of yet).
 * And a forward from outside it: a removed member's unapplied puts (reconfiguration.ts).
 */
const mayHearFrom = (s: ReplicaState, m: RaftMessage): boolean =>
  s.peers.includes(m.src) ||
  isMember(s.initialConfiguration, m.src) ||
  m.type === 'append' ||
  m.type === 'forward' ||
  m.type === 'snapshot' ||
  m.type === 'timeoutNow' ||
  m.type === 'vote'

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
 *   term; it refuses it without taking its term. Unless the campaign is a leadership transfer
 *   (thesis §3.10, `transfer`): its leader asked for it, so it disrupts nothing.
 */
const onRaftMessage = (s: ReplicaState, ctx: StepContext, m: RaftMessage): ReplicaState => {
  // A forward from outside the configuration comes from a removed member with unapplied puts: the
  // leader sends it the log again (reconfiguration.ts, forwardOwnPutsWhileRemoved).
  if (m.type === 'forward') return tellRemoved(stepByRole(s, ctx, m), ctx, m.src)
  const currentTerm = s.persistent.currentTerm
  // A vote request from outside the configuration may come from a member removed under an earlier
  // leader that never learned it: the leader tells it (reconfiguration.ts, tellRemoved).
  if (m.type === 'vote') return tellRemoved(m.term < currentTerm ? refuseVote(s, ctx, m) : onVoteRequest(s, ctx, m), ctx, m.src)
  if (m.term < currentTerm) return rejectStale(s, ctx, m)
  if (m.term === currentTerm || (m.type === 'voteReply' && m.pre && m.granted)) return stepByRole(s, ctx, m)
  const fromLeader = m.type === 'append' || m.type === 'snapshot'
  const follower = becomeFollower(s, ctx, m.term, fromLeader ? O.some(m.src) : O.none)
  return fromLeader ? stepByRole(follower, ctx, m) : follower
}

/** A vote request of our term or newer (see the lease exception above). */
const onVoteRequest = (s: ReplicaState, ctx: StepContext, m: RequestVote): ReplicaState => {
  if (m.term === s.persistent.currentTerm || m.pre) return onRequestVote(s, ctx, m)
  if (withinLeaderLease(s, ctx.now) && m.transfer !== true) return refuseVote(s, ctx, m)
  return onRequestVote(becomeFollower(s, ctx, m.term, O.none), ctx, m)
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

/**
 * After every event: apply what is committed (a leader then answers the operator whose change
 * committed, or steps down if that change removed it), compact the log if that is due, then answer
 * whatever was waiting and now can be.
 */
const settle = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const applied = applyCommitted(s, ctx)
  return refuseHeldIfNotMember(answerWaiting(compactIfDue(applied.role === 'leader' ? afterCommit(applied, ctx) : applied, ctx), ctx), ctx)
}
