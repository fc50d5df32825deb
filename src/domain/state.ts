/**
 * The replica's state: the persistent part of Figure 2 (term, vote, log) apart from the volatile
 * rest. Immutable all the way down (every field is readonly, and the tests freeze every state `step`
 * returns): a handler builds the next state from the one it was given, sharing what did not change.
 */
import * as O from 'fp-ts/Option'
import { emptyKv, type KvStore } from './kv'
import { emptyLog, type Log } from './log'
import type { RandomState } from './random'
import { emptyTable, type Table } from './tables'
import type { ClientRequest, GetRequest, NodeId, PutCommand } from './wire'

/** Durations in milliseconds. */
export interface Timing {
  /** How often a leader makes sure every follower has heard from it. */
  readonly heartbeatMs: number
  /** Election timeouts are drawn uniformly from [min, max] (§5.2). */
  readonly electionTimeoutMinMs: number
  readonly electionTimeoutMaxMs: number
  /**
   * While an entry waits to commit, the leader resends it to lagging followers this often: on a
   * lossy network a lost AppendEntries or reply would otherwise cost half a heartbeat interval.
   */
  readonly retransmitMs: number
  /** A campaign asks again the peers that have not answered after this long, then twice as long, and so on. */
  readonly voteRetryMs: number
  /** How many times a campaign asks again. */
  readonly voteRetries: number
  /**
   * Safety margin taken off the read lease. The clock is shared, but a reply can sit behind a
   * backlog on a loaded machine; the client's check compares the order in which replies arrive.
   */
  readonly leaseMarginMs: number
  /** The most entries one AppendEntries carries (keeps every datagram far below 60 KB). */
  readonly maxEntriesPerAppend: number
}

export const defaultTiming: Timing = {
  heartbeatMs: 500,
  electionTimeoutMinMs: 1500,
  electionTimeoutMaxMs: 2500,
  retransmitMs: 30,
  voteRetryMs: 100,
  voteRetries: 3,
  leaseMarginMs: 300,
  maxEntriesPerAppend: 64,
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/** Figure 2's persistent state: "updated on stable storage before responding to RPCs". */
export interface PersistentState {
  readonly currentTerm: number
  readonly votedFor: O.Option<NodeId>
  readonly log: Log
}

/** What a leader knows of one follower (Figure 2's nextIndex and matchIndex, and more). */
export interface Progress {
  readonly nextIndex: number
  readonly matchIndex: number
  /** The `sentAt` of the newest AppendEntries this follower answered in this term (read lease). */
  readonly ackedSentAt: number
  /** When the leader last sent this follower an AppendEntries (heartbeat suppression). */
  readonly lastSentAt: number
  /** When the AppendEntries still awaiting an answer were sent, oldest first. */
  readonly inFlight: readonly number[]
  /** Round trips completed and lost: their ratio estimates the delivery rate. */
  readonly answered: number
  readonly lost: number
}

/** The leader's Progress of each follower, by replica ID (IDs are four hex digits: ordinary keys). */
export type ProgressTable = Readonly<Record<string, Progress>>

/** A put this replica appended as leader and has not seen applied yet. */
export interface OwnPut {
  readonly put: PutCommand
  /** Where we appended it; if another entry stands there now, the put was lost to truncation. */
  readonly index: number
  /** When it was last handed to another leader after losing its place in our log; 0 if never. */
  readonly forwardedAt: number
}

export interface ReplicaState {
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  readonly timing: Timing
  readonly persistent: PersistentState

  readonly role: Role
  readonly leader: O.Option<NodeId>
  readonly commitIndex: number
  readonly lastApplied: number
  readonly kv: KvStore
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
  /** Leader only: gets waiting for the read lease. */
  readonly pendingReads: readonly GetRequest[]
  /** Puts we appended as leader, by MID, until they are applied. */
  readonly ownPuts: Table<OwnPut>
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
  ) {
    Object.freeze(this)
  }
}

export const persistentState = (fields: PersistentState): PersistentState =>
  fields instanceof PersistentRecord
    ? fields
    : new PersistentRecord(fields.currentTerm, fields.votedFor, Object.isFrozen(fields.log) ? fields.log : Object.freeze([...fields.log]))

/** The persistent state with `changes` (Figure 2: term, vote, log). */
export const withPersistent = (persistent: PersistentState, changes: Partial<PersistentState>): PersistentState =>
  new PersistentRecord(
    changes.currentTerm ?? persistent.currentTerm,
    changes.votedFor ?? persistent.votedFor,
    changes.log ?? persistent.log,
  )

export interface ReplicaConfig {
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  readonly seed: RandomState
  readonly timing?: Timing
}

/** A replica that has stored nothing yet: term 0, no vote, an empty log. */
export const emptyPersistent: PersistentState = persistentState({ currentTerm: 0, votedFor: O.none, log: emptyLog })

export const initialState = (config: ReplicaConfig, persistent?: PersistentState): ReplicaState => ({
  id: config.id,
  peers: config.peers.filter((peer) => peer !== config.id),
  timing: config.timing ?? defaultTiming,
  persistent: persistent === undefined ? emptyPersistent : persistentState(persistent),
  role: 'follower',
  leader: O.none,
  commitIndex: 0,
  lastApplied: 0,
  kv: emptyKv,
  lastLeaderContact: Number.NEGATIVE_INFINITY,
  votesGranted: [],
  voteRetriesDone: 0,
  progress: {},
  leaderSince: 0,
  tickDueAt: 0,
  held: [],
  pendingReads: [],
  ownPuts: emptyTable(),
  lastRedirect: {},
  unreachableLeader: O.none,
  random: config.seed,
})

export const clusterSize = (state: ReplicaState): number => state.peers.length + 1
