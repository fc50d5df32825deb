/**
 * The replica as a pure reducer: `step(state, event)` returns the next state and the effects to
 * perform, like etcd's Step and Ready in one call. Rules every role shares live here: the term
 * rule, vote requests, and what follows every event (apply what is committed, answer what waits).
 */
import * as O from 'fp-ts/Option'
import { log, send, type Effect } from '../effects/effect'
import { applyCommitted } from './apply'
import { persistEffect } from './durability'
import { answerGet, reachableLeader, redirect } from './clients'
import type { StepContext } from './context'
import { armFirstElectionTimer, becomeFollower, onRequestVote, onVoteRetryTimer, startPreVote } from './election'
import type { Event } from './events'
import { onHeartbeatTick, onRequestAsLeader, stepLeader } from './leader'
import { stepCandidate } from './candidate'
import { stepFollower } from './follower'
import { isClientRequest, isRaftMessage, type RaftOrClientMessage } from './messages'
import { canServeReads } from './reads'
import { compactIfDue } from './snapshot'
import type { ReplicaState } from './state'
import { BROADCAST, UNKNOWN_LEADER, type Message } from './wire'

export type StepResult = readonly [ReplicaState, readonly Effect[]]

export const step = (state: ReplicaState, event: Event): StepResult => {
  const ctx: StepContext = { now: event.now, effects: [] }
  const next = settle(handle(state, ctx, event), ctx)
  // Figure 2: what changed of the persistent state is stored before anything else is done.
  const persist = persistEffect(state.persistent, next.persistent)
  return [next, persist === undefined ? ctx.effects : [persist, ...ctx.effects]]
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
  if (isRaftMessage(m)) {
    if (!s.peers.includes(m.src)) {
      ctx.effects.push(log(`ignored a ${m.type} from ${m.src}, not a peer`))
      return s
    }
    if (m.type === 'vote') return onRequestVote(s, ctx, m)
    if (m.type !== 'forward' && m.term > s.persistent.currentTerm && !isGrantedPreVote(m)) {
      // Figure 2: "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower".
      const fromLeader = m.type === 'append' || m.type === 'snapshot'
      const follower = becomeFollower(s, ctx, m.term, fromLeader ? O.some(m.src) : O.none)
      return fromLeader ? stepByRole(follower, ctx, m) : follower
    }
    return stepByRole(s, ctx, m)
  }
  if (isClientRequest(m)) return stepByRole(s, ctx, m)
  ctx.effects.push(log(`ignored a ${m.type} from ${m.src}`))
  return s
}

/** A granted pre-vote carries the term the candidate would campaign in, not a term anyone holds. */
const isGrantedPreVote = (m: RaftOrClientMessage): boolean => m.type === 'voteReply' && m.pre && m.granted

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
 * After every event: apply what is committed (and compact the log if that is due), then answer
 * whatever was waiting and now can be.
 */
const settle = (before: ReplicaState, ctx: StepContext): ReplicaState => {
  const s = compactIfDue(applyCommitted(before, ctx), ctx)
  if (s.role === 'leader') {
    let served = s
    if (s.held.length > 0) {
      served = { ...s, held: [] }
      for (const request of s.held) served = onRequestAsLeader(served, ctx, request)
    }
    if (served.pendingReads.length > 0 && canServeReads(served, ctx.now)) {
      for (const request of served.pendingReads) answerGet(served, ctx, request)
      served = { ...served, pendingReads: [] }
    }
    return served
  }
  const leader = reachableLeader(s)
  if (O.isNone(leader) || s.held.length === 0) return s
  let redirected: ReplicaState = { ...s, held: [] }
  for (const request of s.held) redirected = redirect(redirected, ctx, request, leader.value)
  return redirected
}
