/**
 * Collects what happened in a run, in the order it happened, and turns it into TimelineData.
 * Both drivers call it: kvsim from its Simulation's observer, check:sim from its cluster's.
 * Times are milliseconds from the start of the run.
 */
import type { OperationKind } from '../history/operation'
import type {
  AttemptRow, Band, Failure, LaneMark, LaneMarkKind, LaneRole, Outcome, RequestRow, RoleSpan, TimelineData,
} from './model'
import { OUTCOMES } from './model'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

interface OpenSpan {
  from: number
  role: LaneRole
  term: number | null
}

interface RequestRecord {
  readonly id: string
  readonly client: number
  readonly kind: OperationKind
  readonly key: number
  value: string
  readonly from: number
  to: number | null
  redirectedOrFailed: boolean
  duplicates: number
  incorrect: boolean
  readonly attempts: AttemptRow[]
}

export interface RequestInfo {
  readonly id: string
  readonly client: string
  readonly kind: OperationKind
  readonly key: string
  readonly value: string | undefined
}

export type ReplyType = 'ok' | 'redirect' | 'fail'

export interface BuildInfo {
  readonly title: string
  readonly subtitle: string
  readonly source: TimelineData['source']
  readonly rolesInferred: boolean
  readonly summary: readonly string[]
  readonly failure: Failure | null
  /** The median latency the run was scored by, in ms (kvsim), if any. */
  readonly scoredMedianMs?: number
}

export class TimelineRecorder {
  private readonly index = new Map<string, number>()
  private readonly open: OpenSpan[]
  private readonly spans: RoleSpan[] = []
  private readonly marks: LaneMark[] = []
  private readonly bands: Band[] = []
  private partitionOpen: { from: number; label: string; detail: string; sides: number[][] } | undefined
  private readonly clientIndex = new Map<string, number>()
  private readonly keyIndex = new Map<string, number>()
  private readonly requests: RequestRecord[] = []
  private readonly byMid = new Map<string, { request: RequestRecord; attempt: AttemptRow }>()
  private readonly delivered: number[] = []
  private readonly droppedRandomly: number[] = []
  private readonly droppedByPartition: number[] = []

  constructor(readonly replicas: readonly string[], readonly bucketMs = 100, initialRole: LaneRole = 'starting') {
    replicas.forEach((id, i) => this.index.set(id, i))
    this.open = replicas.map(() => ({ from: 0, role: initialRole, term: null }))
  }

  replicaIndex(id: string): number | undefined {
    return this.index.get(id)
  }

  /** The role and term a replica is drawn with now. */
  current(replica: string): { role: LaneRole; term: number | null } | undefined {
    const i = this.index.get(replica)
    if (i === undefined) return undefined
    const span = this.open[i]!
    return { role: span.role, term: span.term }
  }

  /** From `at` on, the replica is drawn with this role and term (nothing happens if both are unchanged). */
  setRole(at: number, replica: string, role: LaneRole, term: number | null): void {
    const i = this.index.get(replica)
    if (i === undefined) return
    const span = this.open[i]!
    if (span.role === role && span.term === term) return
    if (at > span.from) this.spans.push({ replica: i, from: span.from, to: at, role: span.role, term: span.term })
    this.open[i] = { from: Math.max(at, span.from), role, term }
  }

  mark(at: number, replica: string, kind: LaneMarkKind, detail: string): void {
    const i = this.index.get(replica)
    if (i === undefined) return
    this.marks.push({ replica: i, at, kind, detail })
  }

  /** The replica stops (killed, crashed, died): its lane shows it down from now. */
  down(at: number, replica: string, kind: 'killed' | 'crashed' | 'died', detail: string): void {
    this.mark(at, replica, kind, detail)
    this.setRole(at, replica, 'down', this.current(replica)?.term ?? null)
  }

  /** A point event drawn across every lane. */
  event(at: number, kind: Band['kind'], label: string, detail: string): void {
    this.bands.push({ from: at, to: at, kind, label, detail })
  }

  /** A partition into these sides from now on (null: healed). A new partition replaces the old one. */
  partition(at: number, sides: readonly (readonly string[])[] | null, label: string, detail: string): void {
    this.closePartition(at)
    if (sides === null) return
    const indexed = sides
      .map((side) => side.map((id) => this.index.get(id)).filter((i): i is number => i !== undefined).sort((a, b) => a - b))
      .filter((side) => side.length > 0)
      .sort((a, b) => b.length - a.length)
    this.partitionOpen = { from: at, label, detail, sides: indexed }
  }

  private closePartition(at: number): void {
    const p = this.partitionOpen
    if (p === undefined) return
    this.bands.push({ from: p.from, to: at, kind: 'partition', label: p.label, detail: p.detail, sides: p.sides })
    this.partitionOpen = undefined
  }

  /** Replica-to-replica datagrams at `at`: how many copies were delivered and dropped. */
  datagrams(at: number, delivered: number, droppedRandomly: number, droppedByPartition: number): void {
    const bucket = Math.max(0, Math.floor(at / this.bucketMs))
    while (this.delivered.length <= bucket) {
      this.delivered.push(0)
      this.droppedRandomly.push(0)
      this.droppedByPartition.push(0)
    }
    this.delivered[bucket]! += delivered
    this.droppedRandomly[bucket]! += droppedRandomly
    this.droppedByPartition[bucket]! += droppedByPartition
  }

  /** The first attempt of a new request. */
  request(at: number, info: RequestInfo, mid: string, to: string): void {
    const record: RequestRecord = {
      id: info.id,
      client: intern(this.clientIndex, info.client),
      kind: info.kind,
      key: intern(this.keyIndex, info.key),
      value: info.value ?? '',
      from: at,
      to: null,
      redirectedOrFailed: false,
      duplicates: 0,
      incorrect: false,
      attempts: [],
    }
    this.requests.push(record)
    this.attempt(at, record, mid, to)
  }

  /** The client sends the request again under a new MID after a redirect or fail reply to `previousMid`. */
  retry(at: number, previousMid: string, mid: string, to: string): void {
    const previous = this.byMid.get(previousMid)
    if (previous !== undefined) this.attempt(at, previous.request, mid, to)
  }

  private attempt(at: number, request: RequestRecord, mid: string, to: string): void {
    const row: AttemptRow = [mid, this.index.get(to) ?? -1, at, null, '']
    request.attempts.push(row)
    this.byMid.set(mid, { request, attempt: row })
  }

  /**
   * A reply reaches its client. `correct` is false for an ok whose value the client rejected.
   * A second ok to a completed request counts as a duplicate.
   */
  reply(at: number, mid: string, type: ReplyType, value: string | undefined, correct = true): void {
    const found = this.byMid.get(mid)
    if (found === undefined) return
    const { request, attempt } = found
    if (request.to !== null && type === 'ok' && attempt[3] !== null) {
      request.duplicates++
      return
    }
    if (attempt[3] !== null) return // a second non-ok reply: the client calls it incorrect, nothing to draw
    attempt[3] = at
    attempt[4] = type
    if (type !== 'ok') {
      request.redirectedOrFailed = true
      return
    }
    request.to = at
    if (request.kind === 'get') request.value = value ?? ''
    if (!correct) request.incorrect = true
  }

  /** The ok to this MID carried a value its client rejected. */
  flagIncorrect(mid: string): void {
    const found = this.byMid.get(mid)
    if (found !== undefined) found.request.incorrect = true
  }

  /** Operations whose ok carried a value the client rejected, in order. */
  incorrectRequests(): string[] {
    return this.requests.filter((r) => r.incorrect).map((r) => r.id)
  }

  build(endAt: number, info: BuildInfo): TimelineData {
    const spans = [...this.spans]
    this.open.forEach((span, replica) => {
      if (endAt > span.from) spans.push({ replica, from: span.from, to: endAt, role: span.role, term: span.term })
    })
    spans.sort((a, b) => a.replica - b.replica || a.from - b.from)
    this.closePartition(endAt)
    const bands = [...this.bands].sort((a, b) => a.from - b.from)
    const latencies: number[] = []
    const requests: RequestRow[] = this.requests.map((r) => {
      if (r.to !== null) latencies.push(r.to - r.from)
      return [
        r.id, r.client, r.kind === 'get' ? 0 : 1, r.key, r.value, r.from, r.to,
        OUTCOMES.indexOf(outcomeOf(r)), r.duplicates, r.attempts,
      ]
    })
    const sorted = sortedAscending(latencies)
    return {
      version: 1,
      title: info.title,
      subtitle: info.subtitle,
      source: info.source,
      durationMs: endAt,
      replicas: this.replicas,
      rolesInferred: info.rolesInferred,
      spans,
      marks: [...this.marks],
      bands,
      clients: [...this.clientIndex.keys()],
      keys: [...this.keyIndex.keys()],
      requests,
      latency: {
        median: quantileOfSorted(sorted, 0.5) ?? null,
        p99: quantileOfSorted(sorted, 0.99) ?? null,
        completed: latencies.length,
        scoredMedian: info.scoredMedianMs ?? null,
      },
      traffic: {
        bucketMs: this.bucketMs,
        delivered: [...this.delivered],
        droppedRandomly: [...this.droppedRandomly],
        droppedByPartition: [...this.droppedByPartition],
      },
      summary: info.summary,
      failure: info.failure,
    }
  }
}

function outcomeOf(r: RequestRecord): Outcome {
  if (r.to === null) return 'unanswered'
  if (r.incorrect) return 'incorrect'
  if (r.duplicates > 0) return 'duplicate'
  if (r.redirectedOrFailed) return 'redirected'
  return 'ok'
}

function intern(table: Map<string, number>, value: string): number {
  let i = table.get(value)
  if (i === undefined) {
    i = table.size
    table.set(value, i)
  }
  return i
}
