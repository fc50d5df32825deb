/**
 * The replica's state: the persistent part of Figure 2 (term, vote, log) apart from the volatile
 * rest. Immutable all the way down (every field is readonly, and the tests freeze every state `step`
 * returns): a handler builds the next state from the one it was given, sharing what did not change.
 */
import * as O from 'fp-ts/Option'
import { validSettings, defaultSettings, type Settings } from './config'
import { emptyKv, type KvStore } from './kv'
import { emptyLog, lastIndex, type Log } from './log'
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
  readonly peers: readonly NodeId[]
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
 * The persistent state as a frozen record: a step that changes the term, the vote or the log
 * replaces it whole, and every other step shares it.
 */
class PersistentRecord implements PersistentState {
  constructor(
    readonly currentTerm: number,
    readonly votedFor: O.Option<NodeId>,
    readonly log: Log,
    readonly snapshot: KvStore,
  ) {
    Object.freeze(this)
  }
}

/** The persistent state as a record; `snapshot` defaults to the empty store (a log with no snapshot). */
export const persistentState = (fields: Omit<PersistentState, 'snapshot'> & { readonly snapshot?: KvStore }): PersistentState =>
  fields instanceof PersistentRecord
    ? fields
    : new PersistentRecord(fields.currentTerm, fields.votedFor, fields.log, fields.snapshot ?? emptyKv)

/** The persistent state with `changes` (Figure 2: term, vote, log; §7: the snapshot). */
export const withPersistent = (persistent: PersistentState, changes: Partial<PersistentState>): PersistentState =>
  new PersistentRecord(
    changes.currentTerm ?? persistent.currentTerm,
    changes.votedFor ?? persistent.votedFor,
    changes.log ?? persistent.log,
    changes.snapshot ?? persistent.snapshot,
  )

export interface ReplicaConfig {
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  readonly seed: RandomState
  /** Default: defaultSettings. Validated here (config.ts): invalid settings throw InvalidSettings. */
  readonly settings?: Settings
}

/** A replica that has stored nothing yet: term 0, no vote, an empty log. */
export const emptyPersistent: PersistentState = persistentState({ currentTerm: 0, votedFor: O.none, log: emptyLog })

/**
 * A replica starting, or restarting on what it stored: §7, a restarted replica's state machine is
 * its snapshot, and everything the snapshot covers counts as committed and applied.
 */
export const initialState = (config: ReplicaConfig, stored?: PersistentState): ReplicaState => {
  const persistent = stored === undefined ? emptyPersistent : persistentState(stored)
  return {
    id: config.id,
    peers: config.peers.filter((peer) => peer !== config.id),
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

export const clusterSize = (state: ReplicaState): number => state.peers.length + 1
