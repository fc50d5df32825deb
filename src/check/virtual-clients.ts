/**
 * The protocol's clients (protocol.md, "The clients") and the checks on their replies:
 *
 * - a MID gets at most one non-ok reply, and nothing but duplicate oks after an ok (counted);
 * - a reply goes to the client that asked;
 * - a get's ok carries the value of the latest put ok this client has received for that key at the
 *   moment the get's ok arrives (stricter than linearizability, and exactly the course simulator's
 *   rule: a get that sees a put whose ok has not reached the client is incorrect, so a replica
 *   must send a put's ok before any get reply that reflects it). Only where each key has one
 *   writer (workload.ts, `own`): where clients share keys (`shared`), the rule is off and the
 *   linearizability checker judges the reads;
 * - except for a put that a crash touched before its ok (`indeterminate`): its attempt was lost
 *   with a replica that crashed, or a replica crashed with it in its stored log. The course never
 *   has these (its replicas never restart). A replica that restarts with the put in its log and
 *   leads applies it unanswered (it answers only requests that reached it in its current life:
 *   domain/client-requests.ts); the replica that took it, if alive, answers it later, after gets
 *   that see it or after later puts of the key were answered. Until its ok, such a put is a pending
 *   operation: linearizability lets it take effect at any point after its invocation, so a get may
 *   see its value; and its late ok does not make it the latest when another put of the key was
 *   answered since it was invoked (the two overlap: either order is linearizable). The
 *   linearizability checker judges those reads over the whole history;
 * - the protocol answers a get of a key never written with an empty value: the clients never put
 *   an empty value, so an empty value reads as "never written" (undefined in the history);
 * - redirect and fail make the client resend the same request at once under a new MID, to the
 *   leader named in the reply or, if that is not a living replica, to a random living one.
 *
 * A logical request (all its attempts) is one Operation of the history that the linearizability
 * checker reads.
 */
import { checkLinearizable, describeOperation, invariantOf, type Operation } from './linearizability'
import type { AdminAction, AdminRequest, ClientReply, ClientRequest, Message, NodeId } from '../domain/wire'
import type { Violation } from './violation'

/** Who asks for membership changes in the checkers: not a replica, not one of the protocol's clients. */
export const OPERATOR = 'FFF0' as NodeId

/** The operator's request to `dst`. */
export const operatorRequest = (dst: NodeId, MID: string, action: AdminAction, member: NodeId | undefined): AdminRequest => ({
  src: OPERATOR,
  dst,
  leader: dst,
  type: 'admin',
  MID,
  action,
  ...(member === undefined ? {} : { member }),
})

/**
 * What a replica's message to a client or the operator is to the checkers: a reply of the protocol
 * (a refusal from a replica that is not a member is a fail to the protocol's client: it tries
 * elsewhere), `operator` for what the operator hears, or a description of what no one should send.
 */
export const asClientReply = (m: Message): ClientReply | 'operator' | string => {
  if (m.dst === OPERATOR) {
    return m.type === 'adminReply' || m.type === 'refused' || m.type === 'redirect' ? 'operator' : `a ${m.type} to the operator`
  }
  if (m.type === 'refused') return { src: m.src, dst: m.dst, leader: m.leader, type: 'fail', MID: m.MID }
  if (m.type === 'ok' || m.type === 'redirect' || m.type === 'fail') return m
  return `a ${m.type} to client ${m.dst}`
}

/** Where to send an attempt, given the leader the client remembers (undefined: none). */
export type Route = (remembered: NodeId | undefined) => NodeId

interface ClientState {
  readonly id: NodeId
  leader: NodeId | undefined
  /** key -> value of the latest put ok received. */
  readonly acked: Map<string, string>
  /** key -> when (sequence) the latest put ok of that key was received. */
  readonly ackedSeq: Map<string, number>
  /** key -> values of its indeterminate puts: a get may see them too (see the top of this file). */
  readonly indeterminate: Map<string, Set<string>>
  nextMid: number
}

export interface TrackedOperation {
  readonly op: Operation
  readonly request: RequestBody
  /** The MID of the attempt in flight, if any. */
  currentMid: string | undefined
  /** Where the attempt in flight went. */
  target: NodeId | undefined
  attempts: number
  /** Its attempt was lost with a replica that crashed: a reply may still come, but none is owed. */
  orphaned: boolean
}

/** What every attempt of a request repeats. */
type RequestBody =
  | { readonly src: NodeId; readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly src: NodeId; readonly type: 'get'; readonly key: string }

type MidStatus = 'outstanding' | 'redirected' | 'failed' | 'ok'

interface MidRecord {
  readonly tracked: TrackedOperation
  readonly client: NodeId
  status: MidStatus
}

export interface ReplyOutcome {
  readonly violation?: Violation
  /** The retry the client sends at once, if any. */
  readonly retry?: ClientRequest
}

export class Clients {
  private readonly clients = new Map<string, ClientState>()
  private readonly mids = new Map<string, MidRecord>()
  private readonly operations: TrackedOperation[] = []
  duplicates = 0
  /** Every invocation and completion in the order the simulation handled them (see Operation.invokedSeq). */
  private sequence = 0
  redirects = 0
  fails = 0

  /** `perClientReads`: apply the per-client rule to every get (off for the shared workload). */
  constructor(ids: readonly NodeId[], private readonly perClientReads = true) {
    for (const id of ids) this.clients.set(id, { id, leader: undefined, acked: new Map(), ackedSeq: new Map(), indeterminate: new Map(), nextMid: 0 })
  }

  clone(): Clients {
    const copy = new Clients([], this.perClientReads)
    for (const [id, c] of this.clients) {
      const indeterminate = new Map([...c.indeterminate].map(([key, values]) => [key, new Set(values)]))
      copy.clients.set(id, { ...c, acked: new Map(c.acked), ackedSeq: new Map(c.ackedSeq), indeterminate })
    }
    const trackedCopies = new Map<TrackedOperation, TrackedOperation>()
    for (const t of this.operations) {
      const t2 = { ...t, op: { ...t.op } }
      trackedCopies.set(t, t2)
      copy.operations.push(t2)
    }
    for (const [mid, r] of this.mids) copy.mids.set(mid, { ...r, tracked: trackedCopies.get(r.tracked)! })
    copy.duplicates = this.duplicates
    copy.sequence = this.sequence
    copy.redirects = this.redirects
    copy.fails = this.fails
    return copy
  }

  /** Keys this client holds a put ok for: the only keys it may get. */
  ackedKeys(client: NodeId): string[] {
    return [...(this.clients.get(client)?.acked.keys() ?? [])]
  }

  ackedValue(client: NodeId, key: string): string | undefined {
    return this.clients.get(client)?.acked.get(key)
  }

  forgetLeaders(): void {
    for (const c of this.clients.values()) c.leader = undefined
  }

  /** Starts a logical request and returns its first attempt. */
  invoke(now: number, client: NodeId, kind: 'get' | 'put', key: string, value: string | undefined, route: Route): ClientRequest {
    const c = this.clientState(client)
    const op: Operation = {
      id: `${client}#${this.operations.length}`,
      client,
      key,
      kind,
      value: kind === 'put' ? value : undefined,
      invokedAt: now,
      completedAt: undefined,
      invokedSeq: ++this.sequence,
    }
    const request =
      kind === 'put' ? { src: client, type: 'put' as const, key, value: value! } : { src: client, type: 'get' as const, key }
    const tracked: TrackedOperation = { op, request, currentMid: undefined, target: undefined, attempts: 0, orphaned: false }
    this.operations.push(tracked)
    return this.attempt(c, tracked, route)
  }

  private attempt(c: ClientState, tracked: TrackedOperation, route: Route): ClientRequest {
    const dst = route(c.leader)
    if (c.leader !== dst) c.leader = undefined
    const MID = `${c.id}${(c.nextMid++).toString(16).toUpperCase().padStart(12, '0')}`
    tracked.currentMid = MID
    tracked.target = dst
    tracked.attempts++
    tracked.orphaned = false
    this.mids.set(MID, { tracked, client: c.id, status: 'outstanding' })
    const leader = (c.leader ?? 'FFFF') as NodeId
    const r = tracked.request
    // Built field by field (an object spread of the request was a hot spot of the simulation).
    return r.type === 'put'
      ? { src: r.src, dst, leader, type: 'put', MID, key: r.key, value: r.value }
      : { src: r.src, dst, leader, type: 'get', MID, key: r.key }
  }

  /** A reply arrives at `message.dst`. */
  reply(now: number, message: ClientReply, route: Route): ReplyOutcome {
    const record = this.mids.get(message.MID)
    if (record === undefined) return { violation: bad(`reply to unknown MID ${message.MID} from ${message.src}`) }
    if (record.client !== message.dst) {
      return { violation: bad(`reply to ${message.MID} of ${record.client} went to ${message.dst}`) }
    }
    if (record.status === 'ok') {
      if (message.type === 'ok') {
        this.duplicates++
        // A get answered twice must be answered with one value: a client may take either reply.
        const op = record.tracked.op
        const value = message.value === '' ? undefined : message.value
        if (op.kind === 'get' && value !== op.value) {
          return { violation: bad(`get ${message.MID} answered again by ${message.src} with ${message.value}, first with ${op.value ?? '(none)'}`) }
        }
        return {}
      }
      return { violation: bad(`${message.type} from ${message.src} for ${message.MID} after an ok`) }
    }
    if (record.status !== 'outstanding') {
      return { violation: bad(`second reply (${message.type} from ${message.src}) to ${message.MID}, already ${record.status}`) }
    }
    const c = this.clientState(record.client)
    const tracked = record.tracked
    c.leader = message.leader === 'FFFF' ? undefined : message.leader
    if (tracked.currentMid === message.MID) tracked.currentMid = undefined
    if (message.type === 'redirect' || message.type === 'fail') {
      record.status = message.type === 'redirect' ? 'redirected' : 'failed'
      if (message.type === 'redirect') this.redirects++
      else this.fails++
      return { retry: this.attempt(c, tracked, route) }
    }
    record.status = 'ok'
    const op = tracked.op
    op.completedAt = now
    op.completedSeq = ++this.sequence
    if (op.kind === 'put') {
      const indeterminate = c.indeterminate.get(op.key)
      if (indeterminate?.has(op.value!) && (c.ackedSeq.get(op.key) ?? 0) > (op.invokedSeq ?? 0)) return {}
      indeterminate?.delete(op.value!)
      c.acked.set(op.key, op.value!)
      c.ackedSeq.set(op.key, op.completedSeq!)
      return {}
    }
    op.value = message.value === '' ? undefined : message.value
    const expected = c.acked.get(op.key)
    const seen = op.value === expected || (op.value !== undefined && c.indeterminate.get(op.key)?.has(op.value) === true)
    if (this.perClientReads && !seen) {
      return {
        violation: {
          invariant: 'Get returns the latest acknowledged put',
          detail: `get ${message.MID} of ${op.key} answered ${message.value} by ${message.src}; client ${c.id} last had a put ok for ${expected}`,
        },
      }
    }
    return {}
  }

  /** A replica crashed: the attempts it held or had coming are lost, and their puts indeterminate. */
  orphanAttemptsTo(replica: NodeId): void {
    for (const t of this.operations) {
      if (t.op.completedAt === undefined && t.currentMid !== undefined && t.target === replica) {
        t.orphaned = true
        if (t.request.type === 'put') this.markIndeterminate(t.request.src, t.request.key, t.request.value)
      }
    }
  }

  /** A replica crashed with these puts in its stored log: those not yet answered ok are indeterminate. */
  storedAtCrash(puts: readonly { readonly MID: string }[]): void {
    for (const put of puts) {
      const record = this.mids.get(put.MID)
      const request = record?.tracked.request
      if (record === undefined || record.tracked.op.completedAt !== undefined || request?.type !== 'put') continue
      this.markIndeterminate(request.src, request.key, request.value)
    }
  }

  private markIndeterminate(client: NodeId, key: string, value: string): void {
    const c = this.clientState(client)
    const values = c.indeterminate.get(key)
    if (values === undefined) c.indeterminate.set(key, new Set([value]))
    else values.add(value)
  }

  /** Requests still owed a reply. */
  pending(): TrackedOperation[] {
    return this.operations.filter((t) => t.op.completedAt === undefined && !t.orphaned)
  }

  get operationCount(): number {
    return this.operations.length
  }

  completedCount(): number {
    return this.operations.filter((t) => t.op.completedAt !== undefined).length
  }

  /** The operation the latest `invoke` started. */
  latestOperation(): Operation {
    const last = this.operations[this.operations.length - 1]
    if (last === undefined) throw new Error('no operation yet')
    return last.op
  }

  history(): Operation[] {
    return this.operations.map((t) => t.op)
  }

  /** The figures a run reports of its clients. */
  figures(): { operations: number; completed: number; duplicates: number; redirects: number; fails: number } {
    return { operations: this.operationCount, completed: this.completedCount(), duplicates: this.duplicates, redirects: this.redirects, fails: this.fails }
  }

  /** Why the whole history is not linearizable, if it is not (the per-key checker, history/linearizability.ts). */
  historyViolation(): Violation | undefined {
    const result = checkLinearizable(this.history())
    if (result.ok) return undefined
    return {
      invariant: invariantOf(result.verdict),
      detail: `key ${result.key}: ${result.reason}\n${result.operations.map((op) => `  ${describeOperation(op)}`).join('\n')}`,
    }
  }

  private clientState(id: NodeId): ClientState {
    const c = this.clients.get(id)
    if (c === undefined) throw new Error(`unknown client ${id}`)
    return c
  }
}

const bad = (detail: string): Violation => ({ invariant: 'One reply per MID', detail })
