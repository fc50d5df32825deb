/**
 * Test helpers for the domain suite: IDs, message builders, and drivers that take a replica through
 * `step` (an election, acknowledgements) so that tests set up states the way a real run would.
 */
import * as O from 'fp-ts/Option'
import { sentMessages, type Effect, type TimerName } from '../../src/domain/effect'
import { received, started, timerFired, type Event } from '../../src/domain/events'
import { emptyLog, logOf as logOfEntries, type Log } from '../../src/domain/log'
import { majority } from '../../src/domain/quorum'
import { defaultSettings, type Settings } from '../../src/domain/config'
import { initialState, type ReplicaState } from '../../src/domain/state'
import { frozenStep as step } from '../../src/check/stepper'
import type {
  AppendEntries,
  AppendEntriesReply,
  Command,
  Entry,
  GetRequest,
  Message,
  NodeId,
  PutCommand,
  PutRequest,
  RequestVote,
  RequestVoteReply,
} from '../../src/domain/wire'

export const id = (s: string): NodeId => s as NodeId

export const FFFF = id('FFFF')
/** Five replicas, as in most scenarios; `R[0]` is usually the replica under test. */
export const R = ['0000', '0001', '0002', '0003', '0004'].map(id) as [NodeId, NodeId, NodeId, NodeId, NodeId]
export const CLIENT = id('0015')
export const CLIENT2 = id('0016')

export const settings: Settings = defaultSettings
export const timing = settings.timing
export const limits = settings.limits
export const MIN = timing.electionTimeoutMinMs
export const MAX = timing.electionTimeoutMaxMs
export const HB = timing.heartbeatMs

// ---- building states --------------------------------------------------------------------------

export interface ReplicaOptions {
  readonly peers?: readonly NodeId[]
  readonly seed?: number
  readonly term?: number
  readonly votedFor?: NodeId
  readonly log?: Log
  /** Default: `settings` (the replica's defaults). */
  readonly settings?: Settings
}

/** A fresh replica (not started): `initialState`, optionally with a persistent state as after a restart. */
export const replica = (me: NodeId = R[0], options: ReplicaOptions = {}): ReplicaState =>
  initialState(
    { id: me, peers: options.peers ?? R, seed: options.seed ?? 42, settings: options.settings ?? settings },
    {
      currentTerm: options.term ?? 0,
      votedFor: options.votedFor === undefined ? O.none : O.some(options.votedFor),
      log: options.log ?? emptyLog,
    },
  )

/** A log (with its sentinel) from entries. */
export const logOf = (...entries: Entry[]): Log => logOfEntries(entries)

/** A log of no-ops with these terms. */
export const logOfTerms = (...terms: number[]): Log => logOf(...terms.map((term) => noop(term)))

export const noop = (term: number): Entry => ({ term, command: { op: 'noop' } })

export const putCmd = (key: string, value: string, MID: string, client: NodeId = CLIENT): PutCommand => ({
  op: 'put',
  key,
  value,
  client,
  MID,
})

export const putEntry = (term: number, key: string, value: string, MID: string, client: NodeId = CLIENT): Entry => ({
  term,
  command: putCmd(key, value, MID, client),
})

export const entry = (term: number, command: Command): Entry => ({ term, command })

// ---- driving `step` ---------------------------------------------------------------------------

export interface Run {
  readonly state: ReplicaState
  /** The effects of every step, in order. */
  readonly effects: readonly Effect[]
  /** The sends among them. */
  readonly sent: readonly Message[]
}

/** Steps a state through events in order, collecting every effect. */
export const run = (state: ReplicaState, ...events: Event[]): Run => {
  let current = state
  const effects: Effect[] = []
  for (const event of events) {
    const [next, out] = step(current, event)
    current = next
    effects.push(...out)
  }
  return { state: current, effects, sent: sentMessages(effects) }
}

export const deliver = (state: ReplicaState, now: number, ...messages: Message[]): Run =>
  run(state, ...messages.map((m) => received(now, m)))

export const fire = (state: ReplicaState, now: number, timer: TimerName): Run =>
  run(state, timerFired(now, timer))

export const start = (state: ReplicaState, now = 0): Run => run(state, started(now))

/** The peers whose grants, with our own, make a majority. */
export const quorumPeers = (state: ReplicaState): NodeId[] =>
  state.peers.slice(0, majority(state.peers.length + 1) - 1) as NodeId[]

/**
 * Takes a follower through an election at `now`: its election timer fires, a majority grants the
 * pre-vote, then a majority grants the vote. Returns the leader and the effects of the whole run.
 */
export const elect = (state: ReplicaState, now: number): Run => {
  const timeout = run(state, timerFired(now, 'election'))
  const nextTerm = state.persistent.currentTerm + 1
  const preVotes = deliver(
    timeout.state,
    now,
    ...quorumPeers(state).map((peer) => voteReply({ src: peer, dst: state.id, term: nextTerm, granted: true, pre: true })),
  )
  const votes = deliver(
    preVotes.state,
    now,
    ...quorumPeers(state).map((peer) => voteReply({ src: peer, dst: state.id, term: nextTerm, granted: true, pre: false })),
  )
  const effects = [...timeout.effects, ...preVotes.effects, ...votes.effects]
  return { state: votes.state, effects, sent: sentMessages(effects) }
}

/** The time at which `leaderOf` elects its replica. */
export const ELECTED_AT = 10_000

/**
 * A replica that is leader of `term`: restarted with `term - 1` and `log` as its persistent state,
 * started at 0 and elected at ELECTED_AT. Its log ends with the no-op of `term`.
 */
export const leaderOf = (term: number, options: Omit<ReplicaOptions, 'term'> & { id?: NodeId } = {}): Run => {
  const started0 = start(replica(options.id ?? R[0], { ...options, term: term - 1 }), 0)
  return elect(started0.state, ELECTED_AT)
}

/** Every named follower acknowledges an AppendEntries of `term` up to `matchIndex`, sent at `sentAt`. */
export const acks = (
  leader: ReplicaState,
  followers: readonly NodeId[],
  matchIndex: number,
  sentAt: number,
  term = leader.persistent.currentTerm,
): AppendEntriesReply[] =>
  followers.map((src) => appendReply({ src, dst: leader.id, term, success: true, matchIndex, sentAt }))

// ---- messages ---------------------------------------------------------------------------------

export const append = (m: {
  src: NodeId
  dst: NodeId
  term: number
  prevLogIndex?: number
  prevLogTerm?: number
  entries?: Entry[]
  leaderCommit?: number
  sentAt?: number
}): AppendEntries => ({
  src: m.src,
  dst: m.dst,
  leader: m.src,
  type: 'append',
  term: m.term,
  prevLogIndex: m.prevLogIndex ?? 0,
  prevLogTerm: m.prevLogTerm ?? 0,
  entries: m.entries ?? [],
  leaderCommit: m.leaderCommit ?? 0,
  sentAt: m.sentAt ?? 0,
})

export const appendReply = (m: {
  src: NodeId
  dst: NodeId
  term: number
  success: boolean
  matchIndex?: number
  conflictIndex?: number
  conflictTerm?: number
  sentAt?: number
}): AppendEntriesReply => ({
  src: m.src,
  dst: m.dst,
  leader: FFFF,
  type: 'appendReply',
  term: m.term,
  success: m.success,
  matchIndex: m.matchIndex ?? 0,
  conflictIndex: m.conflictIndex ?? 0,
  conflictTerm: m.conflictTerm ?? 0,
  sentAt: m.sentAt ?? 0,
})

export const vote = (m: {
  src: NodeId
  dst?: NodeId
  term: number
  lastLogIndex?: number
  lastLogTerm?: number
  pre?: boolean
}): RequestVote => ({
  src: m.src,
  dst: m.dst ?? FFFF,
  leader: FFFF,
  type: 'vote',
  term: m.term,
  lastLogIndex: m.lastLogIndex ?? 0,
  lastLogTerm: m.lastLogTerm ?? 0,
  pre: m.pre ?? false,
})

export const voteReply = (m: { src: NodeId; dst: NodeId; term: number; granted: boolean; pre?: boolean }): RequestVoteReply => ({
  src: m.src,
  dst: m.dst,
  leader: FFFF,
  type: 'voteReply',
  term: m.term,
  granted: m.granted,
  pre: m.pre ?? false,
})

export const get = (m: { dst: NodeId; MID: string; key: string; src?: NodeId; leader?: NodeId }): GetRequest => ({
  src: m.src ?? CLIENT,
  dst: m.dst,
  leader: m.leader ?? m.dst,
  type: 'get',
  MID: m.MID,
  key: m.key,
})

export const put = (m: {
  dst: NodeId
  MID: string
  key: string
  value: string
  src?: NodeId
  leader?: NodeId
}): PutRequest => ({
  src: m.src ?? CLIENT,
  dst: m.dst,
  leader: m.leader ?? m.dst,
  type: 'put',
  MID: m.MID,
  key: m.key,
  value: m.value,
})

// ---- looking at effects -----------------------------------------------------------------------

export const ofType = <T extends Message['type']>(messages: readonly Message[], type: T): Extract<Message, { type: T }>[] =>
  messages.filter((m): m is Extract<Message, { type: T }> => m.type === type)

/** The replies (ok, redirect, fail) among some messages, for one MID. */
export const repliesTo = (messages: readonly Message[], MID: string): Message[] =>
  messages.filter((m) => (m.type === 'ok' || m.type === 'redirect' || m.type === 'fail') && m.MID === MID)

export const timersSet = (effects: readonly Effect[], timer: TimerName): number[] =>
  effects.flatMap((e) => (e.kind === 'setTimer' && e.timer === timer ? [e.afterMs] : []))

export const timersCancelled = (effects: readonly Effect[], timer: TimerName): number =>
  effects.filter((e) => e.kind === 'cancelTimer' && e.timer === timer).length

export const terms = (log: Log): number[] => log.entries.map((e) => e.term)

export const leaderOfState = (state: ReplicaState): string => O.getOrElse(() => 'none')(state.leader)
