/**
 * Known Raft bugs, injected by wrapping the real reducer (src/domain stays untouched), so that the
 * tests can show that the checkers find each one, naming the invariant it breaks, while the real
 * reducer under the same options breaks none (test/check/mutants.test.ts says which checker
 * reaches which bug). Each mutant changes exactly the rule it is named after and leaves the rest of
 * `step` as it is; one that changes the persistent state also changes what it asks to store.
 */
import * as O from 'fp-ts/Option'
import { send, type Effect } from '../domain/effect'
import { applyCommitted } from '../domain/apply'
import { logWrite, persistEffect } from '../domain/durability'
import { read } from '../domain/kv'
import { appendToLog, emptyLog, entriesFrom, lastIndex, lastTerm, logOf, termAt } from '../domain/log'
import { applyChange, changeBlockedBecause, configCommand, configurationAt, othersIn } from '../domain/membership'
import { majority, quorumValue } from '../domain/quorum'
import { adoptConfiguration } from '../domain/reconfiguration'
import { defaultSettings, withSettings, type Settings } from '../domain/config'
import { persistentState, withPersistent, type PersistentState, type ReplicaState } from '../domain/state'
import type { Entry, NodeId } from '../domain/wire'
import type { SimOptions } from './cluster'
import type { ExploreBounds } from './explore-options'
import { realStep, type Stepper } from './stepper'

export interface Mutant {
  readonly description: string
  readonly step: Stepper
  /** Settings under which the bug can show (never ones that change what the bug is). */
  readonly options: Partial<SimOptions>
}

/**
 * §5.4.2 / Figure 8: the leader commits whatever a majority stores, entries of earlier terms
 * included, instead of only entries of its own term. (With one entry per AppendEntries, followers'
 * match indexes pass through earlier-term entries before reaching the leader's no-op.)
 */
const commitPreviousTermByCounting: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  if (after.role !== 'leader') return [after, effects]
  const matched = [lastIndex(after.persistent.log), ...after.peers.map((peer) => after.progress[peer]?.matchIndex ?? 0)]
  const counted = quorumValue(matched)
  if (counted <= after.commitIndex) return [after, effects]
  const extra: Effect[] = []
  // The reducer's own apply rule: apply in order, the leader answers each put it applies first.
  const next = applyCommitted({ ...after, commitIndex: counted }, { now: event.now, effects: extra })
  return [next, [...effects, ...extra]]
}

/** §5.4.1: a voter grants (pre-)votes without checking that the candidate's log is at least as up-to-date. */
const voteWithoutUpToDateCheck: Stepper = (state, event) => {
  if (event.kind !== 'received' || event.message.type !== 'vote') return realStep(state, event)
  const m = event.message
  const log = state.persistent.log
  const asIfUpToDate = {
    ...m,
    lastLogTerm: Math.max(m.lastLogTerm, lastTerm(log)),
    lastLogIndex: Math.max(m.lastLogIndex, lastIndex(log)),
  }
  return realStep(state, { ...event, message: asIfUpToDate })
}

/**
 * Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower". The leader adopts the newer term but stays leader.
 */
const noStepDownOnHigherTerm: Stepper = (state, event) => {
  if (state.role !== 'leader' || event.kind !== 'received') return realStep(state, event)
  const m = event.message
  if (m.type !== 'append' && m.type !== 'appendReply' && m.type !== 'voteReply') return realStep(state, event)
  if (m.term <= state.persistent.currentTerm || (m.type === 'voteReply' && m.pre)) return realStep(state, event)
  const next = { ...state, persistent: withPersistent(state.persistent, { currentTerm: m.term, votedFor: O.none }) }
  const persist = persistEffect(state.persistent, next.persistent)
  return [next, persist === undefined ? [] : [persist]]
}

/** A leader answers gets from its own state machine at once, without making sure it still leads (no lease). */
const getFromDeposedLeader: Stepper = (state, event) => {
  if (state.role !== 'leader' || event.kind !== 'received' || event.message.type !== 'get') return realStep(state, event)
  const m = event.message
  const value = read(state.kv, m.key) ?? ''
  return [state, [send({ src: state.id, dst: m.src, leader: state.id, type: 'ok', MID: m.MID, value })]]
}

/** How much too long the lease of `lease-too-long` runs. */
export const LEASE_OVERRUN_MS = 500

/**
 * Thesis §6.4.1: a leader may answer reads locally until the majority-th latest contact plus the
 * minimum election timeout (reads.ts, less a margin), because no other leader can be elected
 * sooner. This leader reckons its lease 500 ms longer, everywhere the reducer asks: a leader
 * already deposed may then answer a get with a value a newer leader has overwritten. (The lease is
 * the settings' margin taken off; the state this step returns keeps the true settings.)
 */
const leaseTooLong: Stepper = (state, event) => {
  const longer = { ...state, settings: withSettings(state.settings, { timing: { leaseMarginMs: state.settings.timing.leaseMarginMs - LEASE_OVERRUN_MS } }) }
  const [after, effects] = realStep(longer, event)
  return [after === longer ? state : { ...after, settings: state.settings }, effects]
}

/** The effects with the persist effect made to match a mutant's change of the persistent state. */
const withPersistOf = (before: ReplicaState, after: ReplicaState, effects: readonly Effect[]): Effect[] => {
  const persist = persistEffect(before.persistent, after.persistent)
  const others = effects.filter((effect) => effect.kind !== 'persist')
  return persist === undefined ? others : [persist, ...others]
}

/**
 * Figure 2, AppendEntries step 3: "If an existing entry conflicts with a new one (same index but
 * different terms), delete the existing entry and all that follow it". This follower overwrites the
 * conflicting entries the leader sent but keeps what followed them.
 */
const noTruncateOnConflict: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  const before = state.persistent.log
  const log = after.persistent.log
  if (after.role === 'leader' || lastIndex(log) >= lastIndex(before)) return [after, effects]
  const written = logWrite(before, log)
  if (written === undefined || written.from > lastIndex(before)) return [after, effects]
  const kept = { ...after, persistent: withPersistent(after.persistent, { log: appendToLog(log, entriesFrom(before, lastIndex(log) + 1, Infinity)) }) }
  return [kept, withPersistOf(state, kept, effects)]
}

/** A leader answers a put as soon as it has appended it, before a majority stores it (§5.3: only committed entries are applied, and answered). */
const answerPutBeforeCommit: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  if (after.role !== 'leader' || event.kind !== 'received' || event.message.type !== 'put') return [after, effects]
  const m = event.message
  const appended = lastIndex(after.persistent.log) > lastIndex(state.persistent.log)
  if (!appended) return [after, effects]
  return [after, [...effects, send({ src: after.id, dst: m.src, leader: after.id, type: 'ok', MID: m.MID })]]
}

/**
 * Thesis §4.1: "a server always uses the latest configuration in its log, regardless of whether
 * the entry is committed". This replica uses the latest committed one instead.
 */
const configurationAtCommit: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  const configuration = configurationAt(after.persistent.log, after.persistent.snapshotConfiguration ?? after.initialConfiguration, after.commitIndex)
  return [{ ...after, configuration, peers: othersIn(configuration, after.id, after.peers) }, effects]
}

/**
 * Thesis §4.1: a leader begins a configuration change only once the previous one has committed
 * (and, with the fix, once an entry of its term has). This leader appends an operator's change
 * whenever it is a single-server change of its configuration, committed or not.
 */
const twoChangesInFlight: Stepper = (state, event) => {
  if (state.role !== 'leader' || event.kind !== 'received' || event.message.type !== 'admin') return realStep(state, event)
  const m = event.message
  if (m.member === undefined || (m.action !== 'add' && m.action !== 'promote' && m.action !== 'remove')) return realStep(state, event)
  const change = applyChange(state.configuration, m.action, m.member)
  const blocked = changeBlockedBecause(state.persistent.log, state.commitIndex, state.persistent.currentTerm)
  if (!('ok' in change) || change.ok === undefined || blocked === undefined || state.duties.transfer !== undefined) return realStep(state, event)
  const ctx = { now: event.now, effects: [] as Effect[] }
  const term = state.persistent.currentTerm
  const appended = { ...state, persistent: withPersistent(state.persistent, { log: appendToLog(state.persistent.log, [{ term, command: configCommand(change.ok) }]) }) }
  const adopted = adoptConfiguration(appended, ctx, change.ok)
  return [adopted, withPersistOf(state, adopted, ctx.effects)]
}

/**
 * Thesis §4.2.1: learners "are not considered for majorities". This leader counts its learners'
 * acknowledgements toward the voters' majority when it commits.
 */
const learnerCountsInMajority: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  if (after.role !== 'leader' || after.configuration.learners.length === 0) return [after, effects]
  const c = after.configuration
  const matched = [...c.voters, ...c.learners].map((id) => (id === after.id ? lastIndex(after.persistent.log) : (after.progress[id]?.matchIndex ?? 0)))
  const counted = matched.sort((a, b) => b - a)[majority(c.voters.length) - 1] ?? 0
  if (counted <= after.commitIndex || termAt(after.persistent.log, counted) !== after.persistent.currentTerm) return [after, effects]
  const extra: Effect[] = []
  const next = applyCommitted({ ...after, commitIndex: counted }, { now: event.now, effects: extra })
  return [next, [...effects, ...extra]]
}

/**
 * The prefix of Figure 8, for three replicas: 0000 led term 2 and appended its no-op, never
 * replicated; 0001 led term 3 (0002 voted for it) and appended its own no-op, never
 * replicated; 0002 holds nothing. Whoever leads next may copy 0000's term-2 entry to 0002; a
 * leader that then counts it as committed loses it when 0001 wins term 5.
 */
export const figure8Prefix = (): PersistentState[] => {
  const noop = (term: number): Entry => ({ term, command: { op: 'noop' } })
  return [
    persistentState({ currentTerm: 2, votedFor: O.some('0000' as NodeId), log: logOf([noop(2)]) }),
    persistentState({ currentTerm: 3, votedFor: O.some('0001' as NodeId), log: logOf([noop(3)]) }),
    persistentState({ currentTerm: 3, votedFor: O.some('0001' as NodeId), log: emptyLog }),
  ]
}

/**
 * A targeted search for Figure 8 (§5.4.2), for the explorer. The fault schedule, fixed for the
 * whole search:
 *
 * - the replicas start from a Figure-8-like persistent state: 0000 led term 2 and holds its
 *   unreplicated no-op (it has since heard of term 3, in which it voted for nobody); 0001 led
 *   term 3 with 0002's vote and holds its own unreplicated no-op; 0002 holds nothing;
 * - 0000 and 0001 cannot reach each other (a partition); 0002 reaches both;
 * - only election timers fire, only 0000's and 0001's, at most three times in all: no heartbeat
 *   ticks, so a leader's entries travel only in the AppendEntries it sends on taking office and in
 *   its answers to rejections (one entry each: `maxEntriesPerAppend` 1);
 * - no drops, no duplicates, no client requests; every interleaving of the deliveries and the
 *   timer firings is explored, breadth first, to exhaustion.
 *
 * In this schedule 0000 can win term 4 with 0002's vote and copy its term-2 entry to 0002 before
 * its term-4 no-op (which 0002 rejects first, having no entry 1); 0001 can then win term 5 with
 * 0002's vote, since 0002's log (term 2) is behind 0001's (term 3). A reducer that counted the
 * term-2 entry as committed once 0000 and 0002 stored it has committed an entry that the leader
 * of term 5 lacks: Leader Completeness (and, once 0001 replicates, State Machine Safety). The real
 * reducer never commits it (the term-4 no-op, which would commit it, never reaches a majority
 * here), so the same search ends with no violation.
 */
export const figure8Search = (): {
  readonly bounds: Partial<ExploreBounds>
  readonly initialPersistent: PersistentState[]
  readonly settings: Settings
} => {
  const noop = (term: number): Entry => ({ term, command: { op: 'noop' } })
  return {
    initialPersistent: [
      persistentState({ currentTerm: 3, votedFor: O.none, log: logOf([noop(2)]) }),
      persistentState({ currentTerm: 3, votedFor: O.some('0001' as NodeId), log: logOf([noop(3)]) }),
      persistentState({ currentTerm: 3, votedFor: O.some('0001' as NodeId), log: emptyLog }),
    ],
    settings: withSettings(defaultSettings, { limits: { maxEntriesPerAppend: 1 } }),
    bounds: {
      replicas: 3,
      maxDepth: 40,
      maxTerm: 5,
      maxLogLength: 3,
      maxInFlight: 6,
      maxStates: 100_000,
      maxTimerFirings: 3,
      requests: [],
      drops: false,
      duplicates: false,
      timers: ['election'],
      timersOf: [0, 1],
      cut: [[0, 1]],
    },
  }
}

export const mutants = {
  'commit-previous-term': {
    description: 'commits an entry of a previous term by counting replicas',
    step: commitPreviousTermByCounting,
    options: {
      settings: withSettings(defaultSettings, { limits: { maxEntriesPerAppend: 1 } }),
      replicas: 3,
      initialPersistent: figure8Prefix(),
      faults: { crashes: true, partitions: false, meanIntervalMs: 250 },
      requestIntervalMs: 300,
    },
  },
  'vote-without-up-to-date-check': {
    description: 'grants votes without the up-to-date check',
    step: voteWithoutUpToDateCheck,
    options: {},
  },
  'no-step-down': {
    description: 'a leader that sees a higher term adopts it but does not step down',
    step: noStepDownOnHigherTerm,
    options: {},
  },
  'no-truncate-on-conflict': {
    description: 'a follower overwrites conflicting entries but keeps the stale ones after them',
    step: noTruncateOnConflict,
    options: { faults: { crashes: true, partitions: true, meanIntervalMs: 400 } },
  },
  'answer-put-before-commit': {
    description: 'a leader answers a put when it appends it, before a majority stores it',
    step: answerPutBeforeCommit,
    options: { faults: { crashes: true, partitions: true, meanIntervalMs: 400 } },
  },
  'get-from-deposed-leader': {
    description: 'a leader answers gets without the lease, so a deposed leader answers stale values',
    step: getFromDeposedLeader,
    options: {
      settings: withSettings(defaultSettings, { timing: { electionTimeoutMinMs: 1_000, electionTimeoutMaxMs: 4_000 } }),
      faults: { crashes: false, partitions: true, meanIntervalMs: 800 },
      getFraction: 0.8,
    },
  },
  'lease-too-long': {
    description: `a leader keeps answering gets from its own store ${LEASE_OVERRUN_MS} ms after its read lease ends`,
    step: leaseTooLong,
    // Election timers close to their minimum elect a new leader as early as the true lease allows,
    // inside the 500 ms the mutant overruns; gets from clients that still know the old leader.
    options: {
      workload: 'shared',
      settings: withSettings(defaultSettings, { timing: { electionTimeoutMaxMs: defaultSettings.timing.electionTimeoutMinMs + 100 } }),
      faults: { crashes: false, partitions: true, meanIntervalMs: 800 },
      getFraction: 0.8,
    },
  },
  'configuration-at-commit': {
    description: 'a replica uses the latest committed configuration instead of the latest in its log',
    step: configurationAtCommit,
    options: { faults: { crashes: true, partitions: true, membership: true, meanIntervalMs: 400 } },
  },
  'two-changes-in-flight': {
    description: 'a leader appends a configuration change before the previous one has committed',
    step: twoChangesInFlight,
    options: { faults: { crashes: false, partitions: true, membership: true, meanIntervalMs: 150 } },
  },
  'learner-counts': {
    description: 'a leader counts a learner toward the majority that commits an entry',
    step: learnerCountsInMajority,
    // Partitions often, so that a learner holds entries a voter lacks.
    options: { replicas: 5, faults: { crashes: false, partitions: true, membership: true, meanIntervalMs: 200 } },
  },
} satisfies Record<string, Mutant>

export type MutantName = keyof typeof mutants

