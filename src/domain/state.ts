/**
 * The replica's state: the persistent part of Figure 2 (term, vote, log) apart from the volatile
 * rest. Immutable all the way down (every field is readonly, and the tests freeze every state `step`
 * returns): a handler builds the next state from the one it was given, sharing what did not change.
 */
import * as O from 'fp-ts/Option'
import { validSettings, defaultSettings, type Settings } from './config'
import { emptyKv, type KvStore } from './kv'
import { emptyLog, lastIndex, type Log } from './log'
import { allVoters, configurationAt, othersIn, type Configuration } from './membership'
import type { RandomState } from './random'
import { PersistentMap } from './persistent-map'
import type { ProgressTable } from './progress'
import type { ClientRequest, GetRequest, NodeId, WriteCommand } from './wire'

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/**
 * Figure 2's persistent state: "updated on stable storage before responding to RPCs"; with §7's
 * snapshot, the state machine as it was after the log's last compacted entry.
 */
export interface PersistentState {
  readonly currentTerm: number
  readonly votedFor: O.Option<NodeId>
  readonly log: Log
  /** The state machine after applying every entry up to `log.snapshotIndex`. */
  readonly snapshot: KvStore
  /**
   * Thesis §5.1: the latest configuration as of `log.snapshotIndex`, once a configuration entry has
   * been compacted into the snapshot (undefined before: the cluster's first configuration).
   */
  readonly snapshotConfiguration: Configuration | undefined
}

/** §7: a point the log will be compacted to once enough entries have been applied after it. */
export interface CompactionPoint {
  readonly index: number
  /** The state machine after applying every entry up to `index`. */
  readonly kv: KvStore
}

/** Figure 13: the pieces of a leader's snapshot received so far. */
export interface IncomingSnapshot {
  readonly lastIncludedIndex: number
  readonly lastIncludedTerm: number
  readonly term: number
  readonly chunks: readonly string[]
  /** Characters received, in order: the offset of the next chunk. */
  readonly received: number
}

/** Thesis §3.10: a leadership transfer under way at the leader. */
export interface Transfer {
  readonly target: NodeId
  /** If the target has not taken over by then (an election timeout after the start), the leader resumes. */
  readonly deadline: number
  /** Whether the TimeoutNow has gone (once the target's log matched ours). */
  readonly timeoutNowSent: boolean
  /** The operator's request, answered when the TimeoutNow goes or refused when the transfer gives up. */
  readonly client: NodeId
  readonly MID: string
}

/** A configuration change the leader appended for an operator, answered once it commits. */
export interface PendingChange {
  readonly index: number
  readonly client: NodeId
  readonly MID: string
}

/**
 * What a leader keeps of membership and leadership transfer while it leads, in one record: every
 * event copies the replica's state, so fields that are nearly always empty are kept together
 * (`noLeaderDuties` when none).
 */
export interface LeaderDuties {
  /** A leadership transfer under way (thesis §3.10). */
  readonly transfer: Transfer | undefined
  /** An operator's configuration change, answered when its entry commits. */
  readonly pendingChange: PendingChange | undefined
  /**
   * Set once it has sent a TimeoutNow in this term: voters grant that campaign inside the read
   * lease, so the lease no longer holds, and gets wait for the entry at this index (appended after
   * them) to commit.
   */
  readonly readBarrier: number | undefined
}

export const noLeaderDuties: LeaderDuties = Object.freeze({ transfer: undefined, pendingChange: undefined, readBarrier: undefined })

/** A write this replica appended as leader and has not seen applied yet. */
export interface OwnPut {
  readonly put: WriteCommand
  /** Where we appended it; if another entry stands there now, the put was lost to truncation. */
  readonly index: number
  /** When it was last handed to another leader after losing its place in our log; 0 if never. */
  readonly forwardedAt: number
}

/** A get the leader holds until it may answer it (reads.ts). */
export interface PendingRead {
  readonly request: GetRequest
  /** ReadIndex only (under the lease a get waits for nothing of its own). */
  readonly readIndex?: ReadIndexMark
}

/** Thesis §6.4: when a get arrived, and the leader's commit index then, which its state machine must reach before it answers. */
export interface ReadIndexMark {
  readonly since: number
  readonly index: number
}

export interface ReplicaState {
  readonly id: NodeId
  /** Every other member of `configuration` (voters and learners): whom a leader replicates to. */
  readonly peers: readonly NodeId[]
  /** The cluster's first configuration: every replica named at start-up votes (membership.ts). */
  readonly initialConfiguration: Configuration
  /** §4.1: the configuration in use, the latest in the log (membership.ts, configurationAt). */
  readonly configuration: Configuration
  readonly settings: Settings
  readonly persistent: PersistentState

  readonly role: Role
  readonly leader: O.Option<NodeId>
  readonly commitIndex: number
  readonly lastApplied: number
  readonly kv: KvStore
  /** §7: where the log is compacted to next; the snapshot taken then is the state machine here. */
  readonly compactionPoint: CompactionPoint | undefined
  /** A snapshot a leader is sending us, until it is complete. */
  readonly incomingSnapshot: IncomingSnapshot | undefined
  /** When we last heard from a leader of our term; votes are refused within the minimum election timeout of it. */
  readonly lastLeaderContact: number
  /** Votes (or pre-votes) granted to us in the current campaign. */
  readonly votesGranted: readonly NodeId[]
  /** How many times the current campaign has asked again. */
  readonly voteRetriesDone: number
  /** Leader only: one entry per peer. */
  readonly progress: ProgressTable
  /** Leader only: when it took office (check-quorum gives it one election timeout to hear back). */
  readonly leaderSince: number
  /** Leader only: when its heartbeat tick is due. */
  readonly tickDueAt: number
  /** Leader only: a transfer, an operator's change, a revoked lease (LeaderDuties). */
  readonly duties: LeaderDuties

  /** Requests held until a leader is known: nothing is dropped. */
  readonly held: readonly ClientRequest[]
  /** Leader only: gets waiting to be confirmed (the lease, or ReadIndex's round of heartbeats), oldest first. */
  readonly pendingReads: readonly PendingRead[]
  /** Writes we appended as leader, by MID, until they are applied (and retries of recovered writes: client-requests.ts). */
  readonly ownPuts: PersistentMap<OwnPut>
  /**
   * The last index of the log this replica recovered from its storage at start-up, less what it
   * has overwritten since: the puts up to it reached it in an earlier life, and their clients may
   * be long gone, so it answers them only when a retry reaches it in this life (client-requests.ts).
   */
  readonly recoveredUpTo: number
  /** Follower: the leader's recoveredUpTo, from its latest AppendEntries (client-requests.ts, writeApplied). */
  readonly leaderRecoveredUpTo: number
  /** Clients we redirected, with where and when: a quick retry that avoids that leader means it is gone. */
  readonly lastRedirect: Readonly<Record<string, { readonly leader: NodeId; readonly at: number }>>
  /** A leader that clients could not reach: requests are held rather than sent to it again. */
  readonly unreachableLeader: O.Option<NodeId>

  readonly random: RandomState
}

/**
 * The state `s` with `changes` (applied in order): how every handler builds the next state, sharing
 * what did not change. The copy names every field, so that every state has the same shape, which
 * V8 copies and reads fast; an object spread (`{ ...s, role }`) does not keep one shape and costs
 * many times more on the path of every put (BENCHMARKS.md, bench:step).
 */
export const withState = (s: ReplicaState, ...changes: readonly Partial<ReplicaState>[]): ReplicaState => {
  const next: ReplicaState = {
    id: s.id, peers: s.peers, initialConfiguration: s.initialConfiguration, configuration: s.configuration,
    settings: s.settings, persistent: s.persistent, role: s.role, leader: s.leader,
    commitIndex: s.commitIndex, lastApplied: s.lastApplied, kv: s.kv, compactionPoint: s.compactionPoint,
    incomingSnapshot: s.incomingSnapshot, lastLeaderContact: s.lastLeaderContact,
    votesGranted: s.votesGranted, voteRetriesDone: s.voteRetriesDone, progress: s.progress,
    leaderSince: s.leaderSince, tickDueAt: s.tickDueAt, duties: s.duties, held: s.held,
    pendingReads: s.pendingReads, ownPuts: s.ownPuts, recoveredUpTo: s.recoveredUpTo,
    leaderRecoveredUpTo: s.leaderRecoveredUpTo, lastRedirect: s.lastRedirect,
    unreachableLeader: s.unreachableLeader, random: s.random,
  }
  for (const change of changes) Object.assign(next, change)
  return next
}

/**
 * The persistent state as a frozen record: a step that changes the term, the vote or the log
 * replaces it whole, and every other step shares it.
 */
class PersistentRecord implements PersistentState {
  constructor(
    readonly currentTerm: number,
    readonly votedFor: O.Option<NodeId>,
    readonly log: Log,
    readonly snapshot: KvStore,
    readonly snapshotConfiguration: Configuration | undefined,
  ) {
    Object.freeze(this)
  }
}

/** The persistent state as a record; `snapshot` defaults to the empty store (a log with no snapshot). */
export const persistentState = (
  fields: Omit<PersistentState, 'snapshot' | 'snapshotConfiguration'> & {
    readonly snapshot?: KvStore
    readonly snapshotConfiguration?: Configuration | undefined
  },
): PersistentState =>
  fields instanceof PersistentRecord
    ? fields
    : new PersistentRecord(fields.currentTerm, fields.votedFor, fields.log, fields.snapshot ?? emptyKv, fields.snapshotConfiguration)

/** The persistent state with `changes` (Figure 2: term, vote, log; §7: the snapshot). */
export const withPersistent = (persistent: PersistentState, changes: Partial<PersistentState>): PersistentState =>
  new PersistentRecord(
    changes.currentTerm ?? persistent.currentTerm,
    changes.votedFor ?? persistent.votedFor,
    changes.log ?? persistent.log,
    changes.snapshot ?? persistent.snapshot,
    changes.snapshotConfiguration ?? persistent.snapshotConfiguration,
  )

export interface ReplicaConfig {
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  readonly seed: RandomState
  /** Default: defaultSettings. Validated here (config.ts): invalid settings throw InvalidSettings. */
  readonly settings?: Settings
  /**
   * The cluster's first configuration (default: `peers` and `id`, all voters). A replica that joins
   * a running cluster is given its members, and waits as a non-member until a leader adds it.
   */
  readonly initialConfiguration?: Configuration
}

/** A replica that has stored nothing yet: term 0, no vote, an empty log. */
export const emptyPersistent: PersistentState = persistentState({ currentTerm: 0, votedFor: O.none, log: emptyLog })

/**
 * A replica starting, or restarting on what it stored: §7, a restarted replica's state machine is
 * its snapshot, and everything the snapshot covers counts as committed and applied.
 */
export const initialState = (config: ReplicaConfig, stored?: PersistentState): ReplicaState => {
  const persistent = stored === undefined ? emptyPersistent : persistentState(stored)
  const initialConfiguration = config.initialConfiguration ?? allVoters([config.id, ...config.peers])
  const inUse = configurationAt(persistent.log, persistent.snapshotConfiguration ?? initialConfiguration)
  return {
    id: config.id,
    peers: othersIn(inUse, config.id, config.peers),
    initialConfiguration,
    configuration: inUse,
    settings: config.settings === undefined ? defaultSettings : validSettings(config.settings),
    persistent,
    role: 'follower',
    leader: O.none,
    commitIndex: persistent.log.snapshotIndex,
    lastApplied: persistent.log.snapshotIndex,
    kv: persistent.snapshot,
    compactionPoint: undefined,
    incomingSnapshot: undefined,
    lastLeaderContact: Number.NEGATIVE_INFINITY,
    votesGranted: [],
    voteRetriesDone: 0,
    progress: {},
    leaderSince: 0,
    tickDueAt: 0,
    duties: noLeaderDuties,
    held: [],
    pendingReads: [],
    ownPuts: PersistentMap.empty(),
    recoveredUpTo: lastIndex(persistent.log),
    leaderRecoveredUpTo: 0,
    lastRedirect: {},
    unreachableLeader: O.none,
    random: config.seed,
  }
}

/** How many replicas vote: majorities are of these (thesis ch. 4). */
export const clusterSize = (state: ReplicaState): number => state.configuration.voters.length
