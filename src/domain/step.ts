/**
 * The replica as a pure reducer: `step(state, event)` returns the next state and the effects to
 * perform, like etcd's Step and Ready in one call. Rules every role shares live here: the term
 * rule, vote requests, and what follows every event (apply what is committed, answer what waits).
 */
import { produce } from 'immer'
import * as O from 'fp-ts/Option'
import { log, send, type Effect } from '../effects/effect'
import { applyCommitted } from './apply'
import { answerGet, reachableLeader, redirect } from './clients'
import type { StepContext } from './context'
import { becomeFollower, onRequestVote, onVoteRetryTimer, resetElectionTimer, startPreVote } from './election'
import type { Event } from './events'
import { onHeartbeatTick, onRequestAsLeader, stepLeader } from './leader'
import { stepCandidate } from './candidate'
import { stepFollower } from './follower'
import { isClientRequest, isRaftMessage, type RaftOrClientMessage } from './messages'
import { canServeReads } from './reads'
import type { MutableState, ReplicaState } from './state'
import { BROADCAST, UNKNOWN_LEADER, type Message } from './wire'

export type StepResult = readonly [ReplicaState, readonly Effect[]]

export const step = (state: ReplicaState, event: Event): StepResult => {
  const effects: Effect[] = []
  const next = produce(state, (draft) => {
    const ctx: StepContext = { now: event.now, effects }
    switch (event.kind) {
      case 'started':
        onStarted(draft, ctx)
        break
      case 'timerFired':
        if (event.timer === 'election' && draft.role !== 'leader') startPreVote(draft, ctx)
        if (event.timer === 'heartbeat' && draft.role === 'leader') onHeartbeatTick(draft, ctx)
        if (event.timer === 'voteRetry') onVoteRetryTimer(draft, ctx)
        break
      case 'received':
        onMessage(draft, ctx, event.message)
        break
    }
    settle(draft, ctx)
  })
  return [next, effects]
}

/**
 * Start-up (or restart with the persistent state kept): say hello to the simulator, and wait a
 * whole election timeout before campaigning. A replica restarting with a term may have
 * acknowledged a leader just before it went down, so start-up counts as contact with a leader:
 * it will not vote inside a lease it helped grant. A brand-new replica has acknowledged nobody.
 */
const onStarted = (s: MutableState, ctx: StepContext): void => {
  ctx.effects.push(send({ src: s.id, dst: BROADCAST, leader: UNKNOWN_LEADER, type: 'hello' }))
  if (s.persistent.currentTerm > 0) s.lastLeaderContact = ctx.now
  resetElectionTimer(s, ctx)
}

const onMessage = (s: MutableState, ctx: StepContext, m: Message): void => {
  if (m.dst !== s.id && m.dst !== BROADCAST) {
    ctx.effects.push(log(`ignored a ${m.type} for ${m.dst}`))
    return
  }
  if (isRaftMessage(m)) {
    if (!s.peers.includes(m.src)) {
      ctx.effects.push(log(`ignored a ${m.type} from ${m.src}, not a peer`))
      return
    }
    if (m.type === 'vote') return onRequestVote(s, ctx, m)
    if (m.type !== 'forward' && m.term > s.persistent.currentTerm && !isGrantedPreVote(m)) {
      // Figure 2: "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower".
      becomeFollower(s, ctx, m.term, m.type === 'append' ? O.some(m.src) : O.none)
      if (m.type !== 'append') return
    }
    return stepByRole(s, ctx, m)
  }
  if (isClientRequest(m)) return stepByRole(s, ctx, m)
  ctx.effects.push(log(`ignored a ${m.type} from ${m.src}`))
}

/** A granted pre-vote carries the term the candidate would campaign in, not a term anyone holds. */
const isGrantedPreVote = (m: RaftOrClientMessage): boolean => m.type === 'voteReply' && m.pre && m.granted

const stepByRole = (s: MutableState, ctx: StepContext, m: RaftOrClientMessage): void => {
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

/** After every event: apply what is committed, then answer whatever was waiting and now can be. */
const settle = (s: MutableState, ctx: StepContext): void => {
  applyCommitted(s, ctx)
  if (s.role === 'leader') {
    const held = s.held
    s.held = []
    for (const request of held) onRequestAsLeader(s, ctx, request)
    if (s.pendingReads.length > 0 && canServeReads(s, ctx.now)) {
      const reads = s.pendingReads
      s.pendingReads = []
      for (const request of reads) answerGet(s, ctx, request)
    }
    return
  }
  const leader = reachableLeader(s)
  if (O.isSome(leader) && s.held.length > 0) {
    const held = s.held
    s.held = []
    for (const request of held) redirect(s, ctx, request, leader.value)
  }
}
