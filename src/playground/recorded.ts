/**
 * A check:sim seed, opened in the playground: the seed is run in the page by check:sim's own
 * simulation (src/check/cluster.ts, with the options `check:sim` gives that seed), watched through
 * its observer and through the stepper it calls, so every step is the real reducer's and the run
 * is the one check:sim ran. The recording then replays step by step in the page's view: each
 * replica's states, the datagrams on their way (from the step that sent them to the step that
 * received them, or to where they were lost), partitions, crashes, the clients' requests, and the
 * failure check:sim found. A recording takes no actions: it is what happened.
 */
import { sweepOptions, ClusterSimulation, type SimFailure, type SimObserver, type SimOptions } from '../check/cluster'
import type { Operation } from '../check/linearizability'
import { sweepBase, seedQuery, type SweepParams } from '../check/sweep-params'
import { clientIds as protocolClientIds, replicaIds } from '../domain/ids'
import type { ReplicaState } from '../domain/state'
import type { Event } from '../domain/events'
import type { ClientReply, ClientRequest, Message, NodeId } from '../domain/wire'
import type { Effect } from '../domain/effect'
import { noTimers, recipients, withoutDeadline, withTimerEffects, type TimerDeadlines } from '../effects/perform'
import { ClusterView, type Fate, type Flight, type RequestView, type StepRecord } from './cluster-view'

/** What happened, in the order it happened, ready to replay. */
type Happening =
  | { readonly kind: 'step'; readonly at: number; readonly record: StepRecord; readonly timers: TimerDeadlines; readonly sent: readonly Flight[]; readonly lostAtOnce: readonly { flight: Flight; fate: Fate }[]; readonly received: Flight | undefined }
  | { readonly kind: 'crash'; readonly at: number; readonly replica: NodeId }
  | { readonly kind: 'restart'; readonly at: number; readonly replica: NodeId }
  | { readonly kind: 'partition'; readonly at: number; readonly groups: readonly (readonly NodeId[])[] | null }
  | { readonly kind: 'request'; readonly at: number; readonly operation: Operation; readonly request: ClientRequest; readonly previousMid: string | undefined; readonly flight: Flight }
  | { readonly kind: 'reply'; readonly at: number; readonly message: ClientReply; readonly flight: Flight | undefined; readonly completed: Operation | undefined }
  | { readonly kind: 'unreceived'; readonly at: number; readonly flight: Flight }
  | { readonly kind: 'failure'; readonly at: number; readonly failure: SimFailure }

/** Runs the seed and records it (a few hundred milliseconds for check:sim's default 20 s). */
const record = (seed: number, params: SweepParams): { readonly options: SimOptions; readonly happenings: Happening[]; readonly failure: SimFailure | undefined } => {
  const options = sweepOptions(seed, sweepBase(params))
  const ids = replicaIds(options.replicas)
  const happenings: Happening[] = []
  let nextFlight = 0
  let nextStep = 0
  /** Datagrams on their way, by message object and recipient (check:sim hands the receiver the object the sender made). */
  const waiting = new Map<Message, Map<NodeId, Flight[]>>()
  const timers = new Map<NodeId, TimerDeadlines>()
  /** The step just taken, awaiting the observer's confirmation that its state was adopted. */
  let call: { before: ReplicaState; event: Event; after: ReplicaState; effects: readonly Effect[] } | undefined
  /** The replica-to-replica sends of the step being carried out, consumed as check:sim transmits them. */
  let outbox: { message: Message; to: NodeId }[] = []
  let current: { step: number; sent: Flight[]; flightIds: number[]; lostAtOnce: { flight: Flight; fate: Fate }[] } | undefined
  const opsByMid = new Map<string, Operation>()
  const completedOps = new Set<string>()

  const fly = (from: NodeId, to: NodeId, message: Message, at: number, sentBy: number | undefined): Flight => {
    const flight: Flight = { id: nextFlight++, from, to, message, sentAt: at, deliverAt: Number.NaN, sentBy, copyOf: undefined }
    let byRecipient = waiting.get(message)
    if (byRecipient === undefined) waiting.set(message, (byRecipient = new Map()))
    const queue = byRecipient.get(to)
    if (queue === undefined) byRecipient.set(to, [flight])
    else queue.push(flight)
    return flight
  }

  /** The flight a delivery ends: the oldest of that message to that recipient, or a copy of it (a duplicate). */
  const arrive = (message: Message, to: NodeId, at: number): Flight | undefined => {
    const queue = waiting.get(message)?.get(to)
    const flight = queue?.shift()
    if (flight !== undefined) {
      flight.deliverAt = at
      return flight
    }
    return undefined
  }
  /** Every flight ever made for a message to a recipient, for duplicates. */
  const delivered = new Map<Message, Map<NodeId, Flight>>()

  const observer: SimObserver = {
    stepped(at, replica, state) {
      if (call === undefined || call.after !== state) return
      const { before, event, after, effects } = call
      call = undefined
      const id = nextStep++
      let received: Flight | undefined
      if (event.kind === 'received') {
        const m = event.message
        const from = m.src
        received = arrive(m, replica, at)
        if (received === undefined) {
          // A duplicate: check:sim delivered the same datagram again.
          const original = delivered.get(m)?.get(replica)
          received = { id: nextFlight++, from, to: replica, message: m, sentAt: original?.sentAt ?? at, deliverAt: at, sentBy: original?.sentBy, copyOf: original?.id }
        }
        let byRecipient = delivered.get(m)
        if (byRecipient === undefined) delivered.set(m, (byRecipient = new Map()))
        byRecipient.set(replica, received)
      }
      let deadlines = timers.get(replica) ?? noTimers
      if (event.kind === 'timerFired') deadlines = withoutDeadline(deadlines, event.timer)
      deadlines = withTimerEffects(deadlines, effects, at)
      timers.set(replica, deadlines)
      current = { step: id, sent: [], flightIds: [], lostAtOnce: [] }
      outbox = []
      for (const effect of effects) {
        if (effect.kind !== 'send' || effect.message.type === 'hello') continue
        const targets = recipients(effect.message, ids)
        if (targets.length > 0) for (const to of targets) outbox.push({ message: effect.message, to })
        else {
          const flight = fly(replica, effect.message.dst, effect.message, at, id)
          current.sent.push(flight)
          current.flightIds.push(flight.id)
        }
      }
      const stepRecord: StepRecord = { id, at, replica, event, before, after, effects, flights: current.flightIds }
      happenings.push({ kind: 'step', at, record: stepRecord, timers: deadlines, sent: current.sent, lostAtOnce: current.lostAtOnce, received })
    },
    transmitted(at, from, to, fate) {
      const index = outbox.findIndex((o) => o.to === to)
      if (index < 0 || current === undefined) return
      const [{ message }] = outbox.splice(index, 1) as [{ message: Message; to: NodeId }]
      const flight = fly(from as NodeId, to as NodeId, message, at, current.step)
      current.sent.push(flight)
      current.flightIds.push(flight.id)
      if (fate !== 'delivered') {
        waiting.get(message)?.get(to as NodeId)?.pop()
        flight.deliverAt = at + 5
        current.lostAtOnce.push({ flight, fate: fate === 'partition' ? 'partition' : 'lost' })
      }
    },
    crashed(at, replica) {
      timers.set(replica as NodeId, noTimers)
      happenings.push({ kind: 'crash', at, replica: replica as NodeId })
    },
    restarted(at, replica) {
      happenings.push({ kind: 'restart', at, replica: replica as NodeId })
    },
    partitioned(at, groups) {
      happenings.push({ kind: 'partition', at, groups: groups as (readonly NodeId[])[] | null })
    },
    healedAll() {},
    requested(at, operation, request) {
      const copy: Operation = { ...operation, completedAt: undefined, completedSeq: undefined, value: operation.kind === 'put' ? operation.value : undefined }
      opsByMid.set(request.MID, operation)
      happenings.push({ kind: 'request', at, operation: copy, request, previousMid: undefined, flight: fly(request.src, request.dst, request, at, undefined) })
    },
    retried(at, previousMid, request) {
      const operation = opsByMid.get(previousMid)!
      opsByMid.set(request.MID, operation)
      happenings.push({ kind: 'request', at, operation, request, previousMid, flight: fly(request.src, request.dst, request, at, undefined) })
    },
    replied(at, message) {
      const flight = arrive(message, message.dst, at)
      const operation = opsByMid.get(message.MID)
      let completed: Operation | undefined
      if (message.type === 'ok' && operation !== undefined && !completedOps.has(operation.id)) {
        completedOps.add(operation.id)
        completed = operation
      }
      happenings.push({ kind: 'reply', at, message, flight, completed })
    },
  }
  const simulation = new ClusterSimulation({
    ...options,
    observer,
    step: (state, event) => {
      const result = options.step(state, event)
      call = { before: state, event, after: result[0], effects: result[1] }
      return result
    },
  })
  const result = simulation.run()
  // Datagrams that never arrived reached a replica while it was down (or the run ended first).
  for (const byRecipient of waiting.values()) {
    for (const queue of byRecipient.values()) {
      for (const flight of queue) {
        flight.deliverAt = flight.sentAt + options.network.maxDelayMs
        happenings.push({ kind: 'unreceived', at: flight.deliverAt, flight })
      }
    }
  }
  if (result.failure !== undefined) happenings.push({ kind: 'failure', at: result.failure.at, failure: result.failure })
  // In time order; at one instant, in the order check:sim handled them (sort is stable).
  happenings.sort((a, b) => a.at - b.at)
  return { options, happenings, failure: result.failure }
}

export class RecordedRun extends ClusterView {
  readonly mode = 'recorded'
  readonly actions = []
  /** How the run was made, as check:sim's options say it. */
  readonly query: string
  private readonly requestByMid = new Map<string, RequestView>()
  private readonly operations: Operation[] = []

  private constructor(
    readonly params: SweepParams,
    readonly options: SimOptions,
    private readonly happenings: readonly Happening[],
    readonly failure: SimFailure | undefined,
  ) {
    super(options.seed, replicaIds(options.replicas), protocolClientIds(options.replicas, options.clients))
    this.query = seedQuery(options.seed, params)
  }

  /** Runs check:sim's seed with these parameters, recording it, and stands at its start. */
  static of(seed: number, params: SweepParams): RecordedRun {
    const run = record(seed, params)
    return new RecordedRun(params, run.options, run.happenings, run.failure)
  }

  get pendingScript(): number {
    return this.happenings.length - this.events
  }

  /** How long the recording lasts, in virtual time. */
  get endsAt(): number {
    return this.happenings[this.happenings.length - 1]?.at ?? 0
  }

  hash(): string {
    return `#checksim&${this.query}&events=${this.events}`
  }

  act(): string {
    return 'This is a recording of a check:sim run: it replays what happened and takes no actions. Open a new cluster to try things.'
  }

  history(): Operation[] {
    return this.operations
  }

  stepOnce(): boolean {
    const next = this.happenings[this.events]
    if (next === undefined) return false
    this.now = Math.max(this.now, next.at)
    this.events++
    this.apply(next)
    return true
  }

  advanceTo(time: number): void {
    for (let next = this.happenings[this.events]; next !== undefined && next.at <= time; next = this.happenings[this.events]) this.stepOnce()
    this.now = Math.max(this.now, time)
  }

  /** Replays up to `events` happenings (where a shared link stood). */
  fastForward(events: number): void {
    while (this.events < events && this.stepOnce()) {
      // each happening applied in turn
    }
  }

  private apply(h: Happening): void {
    switch (h.kind) {
      case 'step': {
        const replica = this.replica(h.record.replica)
        replica.state = h.record.after
        replica.stored = h.record.after.persistent
        replica.timers = h.timers
        this.remember(h.record)
        if (h.received !== undefined) this.endFlight(h.received, 'delivered', h.record.id)
        this.flights.push(...h.sent.filter((f) => !h.lostAtOnce.some((l) => l.flight === f)))
        for (const { flight, fate } of h.lostAtOnce) this.ended.push({ flight, fate, at: h.at, receivedBy: undefined })
        return
      }
      case 'crash': {
        const replica = this.replica(h.replica)
        replica.state = undefined
        replica.timers = noTimers
        return
      }
      case 'restart':
        this.replica(h.replica).incarnation++
        return
      case 'partition':
        return this.partition(h.groups ?? [this.ids])
      case 'request': {
        let view = h.previousMid === undefined ? undefined : this.requestByMid.get(h.previousMid)
        if (view === undefined) {
          this.operations.push(h.operation)
          view = { operation: h.operation, attempts: [] }
          this.requests.push(view)
        }
        view.attempts.push({ mid: h.request.MID, to: h.request.dst, sentAt: h.at })
        this.requestByMid.set(h.request.MID, view)
        this.flights.push(h.flight)
        return
      }
      case 'reply': {
        if (h.flight !== undefined) this.endFlight(h.flight, 'delivered', undefined)
        const view = this.requestByMid.get(h.message.MID)
        const attempt = view?.attempts.find((a) => a.mid === h.message.MID)
        if (attempt !== undefined && attempt.answer === undefined) {
          attempt.answer = { type: h.message.type, from: h.message.src, at: h.at, ...(h.message.type === 'ok' && h.message.value !== undefined ? { value: h.message.value } : {}) }
        }
        if (h.completed !== undefined && view !== undefined) {
          // The operation as the run's history holds it, from the moment its first ok arrived.
          const op = view.operation
          op.completedAt = h.at
          op.completedSeq = h.completed.completedSeq
          if (op.kind === 'get') op.value = h.message.type === 'ok' && h.message.value !== '' ? h.message.value : undefined
        }
        return
      }
      case 'unreceived':
        return this.endFlight(h.flight, 'down', undefined)
      case 'failure':
        this.clientViolations.push({ invariant: h.failure.invariant, detail: h.failure.detail })
        return
    }
  }
}
