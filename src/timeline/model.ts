/**
 * What a timeline page shows, as plain data: one shared time axis in milliseconds from the start
 * of the run. Both drivers (kvsim and check:sim) fill it through a TimelineRecorder; the page
 * (page.ts) embeds it as JSON and its script draws it.
 */
import type { OperationKind } from '../history/operation'

export type LaneRole = 'starting' | 'follower' | 'preCandidate' | 'candidate' | 'leader' | 'down'

/** A replica's role and term over [from, to). `term` is null where it is not known. */
export interface RoleSpan {
  readonly replica: number
  readonly from: number
  readonly to: number
  readonly role: LaneRole
  readonly term: number | null
}

export type LaneMarkKind = 'killed' | 'crashed' | 'died' | 'restarted' | 'hello'

/** Something that happened to one replica at one moment. */
export interface LaneMark {
  readonly replica: number
  readonly at: number
  readonly kind: LaneMarkKind
  readonly detail: string
}

/**
 * A scenario event across all lanes: a partition over [from, to) with its sides (replica indices
 * per side, the majority first when there is one), or a point event (from === to).
 */
export interface Band {
  readonly from: number
  readonly to: number
  readonly kind: 'partition' | 'kill' | 'heal' | 'event'
  readonly label: string
  readonly detail: string
  readonly sides?: readonly (readonly number[])[]
}

/**
 * How a client request ended: ok at the first attempt; ok after a redirect or a fail reply; an ok
 * that was later answered again (duplicate); a wrong value (incorrect); never answered.
 */
export type Outcome = 'ok' | 'redirected' | 'duplicate' | 'incorrect' | 'unanswered'
export const OUTCOMES: readonly Outcome[] = ['ok', 'redirected', 'duplicate', 'incorrect', 'unanswered']

/** One attempt (one MID): [MID, replica index, sent at, replied at or null, reply type or ''] */
export type AttemptRow = [string, number, number, number | null, string]

/**
 * A logical request from its first send to its ok (or the end of the run), compact for tens of
 * thousands of them: [id, client index, 0 get / 1 put, key index, value, from, to or null,
 * outcome index in OUTCOMES, duplicate replies, attempts].
 */
export type RequestRow = [string, number, 0 | 1, number, string, number, number | null, number, number, AttemptRow[]]

export interface FailureOperation {
  readonly id: string
  readonly client: string
  readonly kind: OperationKind
  readonly value: string | null
  readonly from: number
  readonly to: number | null
}

/** Why the run failed; for a wrong read, the key's operations and the offending one(s). */
export interface Failure {
  readonly title: string
  readonly reason: string
  /** When the failure was detected, if that is one moment. */
  readonly at: number | null
  readonly key: string | null
  readonly operations: readonly FailureOperation[]
  readonly offending: readonly string[]
}

export interface TimelineData {
  readonly version: 1
  readonly title: string
  readonly subtitle: string
  readonly source: 'kvsim' | 'check:sim' | 'check:net'
  readonly durationMs: number
  readonly replicas: readonly string[]
  /** True when roles and terms are inferred from the datagrams (kvsim), not read from the replicas. */
  readonly rolesInferred: boolean
  readonly spans: readonly RoleSpan[]
  readonly marks: readonly LaneMark[]
  readonly bands: readonly Band[]
  readonly clients: readonly string[]
  readonly keys: readonly string[]
  readonly requests: readonly RequestRow[]
  /**
   * Per request, first send to ok, in ms; null when no request completed. `scoredMedian`: the
   * median latency the run was scored by (kvsim: every answered attempt from its own send, as the
   * course's simulator counts), shown in the header as the run's median; null when not scored so.
   */
  readonly latency: { readonly median: number | null; readonly p99: number | null; readonly completed: number; readonly scoredMedian: number | null }
  readonly traffic: {
    readonly bucketMs: number
    readonly delivered: readonly number[]
    readonly droppedRandomly: readonly number[]
    readonly droppedByPartition: readonly number[]
  }
  /** Lines of text shown under the title (the run's statistics). */
  readonly summary: readonly string[]
  readonly failure: Failure | null
}
