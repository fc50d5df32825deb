/**
 * What the explorer (explore.ts) is told and what it answers: the bounds of a search (replicas,
 * depth, terms, log length, messages in flight, states, timer firings, scripted requests, the
 * fault schedule), where it starts, and the figures and counterexample it reports.
 */
import type { TimerName } from '../domain/effect'
import type { Settings } from '../domain/config'
import type { PersistentState } from '../domain/state'
import type { AdminAction, NodeId } from '../domain/wire'
import type { Violation } from './violation'
import type { Stepper } from './stepper'

export interface ExploreBounds {
  readonly replicas: number
  readonly maxDepth: number
  readonly maxTerm: number
  readonly maxLogLength: number
  readonly maxInFlight: number
  readonly maxStates: number
  /** The most timer firings (election timeouts and heartbeat ticks) along one path. */
  readonly maxTimerFirings: number
  /**
   * Scripted requests: each may be sent, in order, to any replica: a client's get or put, or an
   * operator's membership change or leadership transfer (thesis ch. 4, §3.10).
   */
  readonly requests: readonly ScriptedRequest[]
  readonly drops: boolean
  readonly duplicates: boolean
  /** The timers that may fire (a fault schedule may leave heartbeat ticks out, say). */
  readonly timers: readonly TimerName[]
  /** The replicas (by position) whose timers may fire; the others only ever react to messages. */
  readonly timersOf: readonly number[] | 'all'
  /**
   * Pairs of replicas (by position) that cannot reach each other for the whole search: a
   * partition as a fixed part of the fault schedule. Their datagrams are lost when sent, so they
   * cost neither a drop action nor room in flight.
   */
  readonly cut: readonly (readonly [number, number])[]
}

export type ScriptedRequest =
  | { readonly kind: 'get' | 'put'; readonly key: string; readonly value?: string }
  | { readonly kind: 'admin'; readonly action: AdminAction; readonly member: NodeId }

export const defaultBounds: ExploreBounds = {
  replicas: 3,
  maxDepth: 14,
  maxTerm: 2,
  maxLogLength: 3,
  maxInFlight: 6,
  maxStates: 20_000,
  maxTimerFirings: 4,
  requests: [{ kind: 'put', key: 'k', value: 'v1' }, { kind: 'get', key: 'k' }],
  drops: true,
  duplicates: false,
  timers: ['election', 'heartbeat'],
  timersOf: 'all',
  cut: [],
}

export interface ExploreOptions {
  readonly bounds: ExploreBounds
  /** Persistent states the replicas start from (as if restarted), e.g. a known scenario's prefix. */
  readonly initialPersistent: readonly (PersistentState | undefined)[]
  readonly step: Stepper
  readonly settings: Settings
  /**
   * Where the search starts. `boot`: every replica just started. `leader`: after a fixed prefix of
   * the model's own transitions in which 0000's election timer fires and every message is then
   * delivered, oldest first, until none is in flight: 0000 leads term 1 (of its log, the no-op
   * is committed) and the others follow it. See `Explorer.electLeader` for why this is sound.
   */
  readonly start: 'boot' | 'leader'
}

export interface ExploreResult {
  readonly statesExplored: number
  readonly transitions: number
  readonly depthReached: number
  /** How many replies to clients the explored transitions carried: whether client operations were reached at all. */
  readonly clientReplies: number
  /** How many explored transitions made a replica leader. */
  readonly elections: number
  /** How many explored transitions changed a replica's configuration (a membership change reached). */
  readonly configurationChanges: number
  /** Whether every state within the depth bound was explored (false when maxStates cut it short). */
  readonly complete: boolean
  readonly counterexample: { readonly violation: Violation; readonly path: readonly string[] } | undefined
}
