/**
 * The playground's cluster: 3 to 7 replicas running the real `step` in virtual time, their effects
 * carried out by the one interpreter every driver uses (effects/perform.ts), and a person's actions
 * in between. Everything a replica sends is a flight that the page draws on its way and that a
 * person may drop, delay or duplicate; time moves only when the page moves it. All randomness
 * comes from the seed, and every action is recorded with the moment it was taken, so a scenario
 * (scenario.ts) replays to the same states. No DOM here: the page (page/) draws what this holds
 * (cluster-view.ts says what it reads).
 */
import { started, received } from '../domain/events'
import { clientIds, replicaIds } from '../domain/ids'
import { seedFrom } from '../domain/random'
import { defaultSettings, type Settings } from '../domain/config'
import { step } from '../domain/step'
import type { ClientReply, ClientRequest, Message, NodeId } from '../domain/wire'
import { recipients } from '../effects/perform'
import { bootReplica, crashReplica, earliestTimerAmong, fireTimer, stepVirtualReplica, type StepOutputs, type StepTaken } from '../effects/virtual-replica'
import { Clients, type Route } from '../check/virtual-clients'
import type { Operation } from '../check/linearizability'
import { Rng } from '../check/rng'
import { ClusterView, linkKey, type Flight, type Replica, type RequestView } from './cluster-view'
import { scenarioHash, type Action, type Scenario, type TimedAction } from './scenario'

/** How long a datagram between replicas takes, drawn per datagram from the seed (ms). */
export const NETWORK_DELAY_MS = { min: 50, max: 150 } as const
/** Requests and replies between the client and a replica: a fixed delay (ms). */
export const CLIENT_DELAY_MS = 40
/** How many clients the page offers. */
export const CLIENT_COUNT = 2
type Due =
  | { readonly kind: 'flight'; readonly at: number; readonly flight: Flight }
  | { readonly kind: 'timer'; readonly at: number; readonly replica: Replica; readonly timer: 'election' | 'heartbeat' | 'voteRetry' }
  | { readonly kind: 'boot'; readonly at: number; readonly replica: Replica }

export class PlaygroundCluster extends ClusterView {
  readonly mode = 'live'
  /** Every action taken, in order, with its moment: the scenario. */
  readonly actions: TimedAction[] = []
  private readonly settings: Settings
  private readonly rng: Rng
  private readonly clients: Clients
  private readonly requestByMid = new Map<string, RequestView>()
  private readonly toBoot: Replica[]
  private nextFlight = 0
  private nextStep = 0
  /** Actions of a scenario being replayed, not taken yet. */
  private script: TimedAction[] = []

  constructor(seed: number, replicaCount: number, settings: Settings = defaultSettings) {
    super(seed, replicaIds(replicaCount), clientIds(replicaCount, CLIENT_COUNT))
    this.settings = settings
    this.rng = new Rng(seed)
    this.clients = new Clients(this.clientIds, false)
    this.toBoot = [...this.replicas]
  }

  /** A cluster that will replay `scenario`'s actions as time reaches them. */
  static replaying(scenario: Scenario, settings: Settings = defaultSettings): PlaygroundCluster {
    const cluster = new PlaygroundCluster(scenario.seed, scenario.replicas, settings)
    cluster.script = [...scenario.actions]
    return cluster
  }

  scenario(): Scenario {
    return { version: 1, seed: this.seed, replicas: this.ids.length, actions: [...this.actions, ...this.script], events: this.events, time: this.now }
  }

  hash(): string {
    return scenarioHash(this.scenario())
  }

  /** Scripted actions still to come. */
  get pendingScript(): number {
    return this.script.length
  }

  // ---- time ------------------------------------------------------------------------------

  /** When the next event is due, if any. */
  nextEventAt(): number | undefined {
    return this.nextDue()?.at
  }

  /** Handles the next scripted action or event; false when nothing is left to do. */
  stepOnce(): boolean {
    const scripted = this.script[0]
    if (scripted !== undefined && scripted.after <= this.events) {
      this.script.shift()
      this.now = Math.max(this.now, scripted.at)
      this.apply(scripted.action)
      return true
    }
    const due = this.nextDue()
    if (due === undefined) return false
    this.now = Math.max(this.now, due.at)
    this.handle(due)
    return true
  }

  /** Handles everything due up to `time` (scripted actions at their moments), then stands at `time`. */
  advanceTo(time: number): void {
    for (;;) {
      const scripted = this.script[0]
      if (scripted !== undefined && scripted.after <= this.events) {
        if (scripted.at > time) break
        this.stepOnce()
        continue
      }
      const due = this.nextDue()
      if (due === undefined || due.at > time) break
      this.stepOnce()
    }
    this.now = Math.max(this.now, time)
  }

  /** Replays to where a shared scenario stood: its events handled, its time reached. */
  fastForward(events: number, time: number, limit = 1_000_000): void {
    for (let n = 0; this.events < events && n < limit; n++) if (!this.stepOnce()) break
    // The sharer had handled every event due before its time and exactly `events` in all: events
    // due at that very instant may still have been waiting, so only the clock moves on. A scenario
    // that names no events (written by hand) runs through its time instead.
    if (events === 0) return this.advanceTo(time)
    // Actions taken after the last of those events, by the sharer's time.
    for (let next = this.script[0]; next !== undefined && next.after <= this.events && next.at <= time; next = this.script[0]) this.stepOnce()
    this.now = Math.max(this.now, time)
  }

  private nextDue(): Due | undefined {
    let best: Due | undefined
    const consider = (due: Due): void => {
      if (best === undefined || due.at < best.at) best = due
    }
    // Ties: boots first, then flights in the order they were sent, then timers by replica.
    const boot = this.toBoot[0]
    if (boot !== undefined) consider({ kind: 'boot', at: 0, replica: boot })
    for (const flight of this.flights) consider({ kind: 'flight', at: flight.deliverAt, flight })
    const timer = earliestTimerAmong(this.replicas, (replica) => replica.timers)
    if (timer !== undefined) consider({ kind: 'timer', at: timer.at, replica: timer.item, timer: timer.timer })
    return best
  }

  private handle(due: Due): void {
    this.events++
    switch (due.kind) {
      case 'boot':
        this.toBoot.shift()
        return this.boot(due.replica)
      case 'timer':
        this.stepReplica(due.replica, (outputs) => fireTimer(due.replica, step, due.timer, this.now, outputs))
        return
      case 'flight':
        return this.deliver(due.flight)
    }
  }

  // ---- replicas ----------------------------------------------------------------------------

  private boot(replica: Replica): void {
    const seed = seedFrom(replica.id, this.seed + replica.incarnation * 0x9e3779b9)
    bootReplica(replica, { peers: this.ids, seed, settings: this.settings })
    this.stepReplica(replica, (outputs) => stepVirtualReplica(replica, step, started(this.now), outputs))
  }

  /** A step of `replica` (`stepping` runs it through the core), its sends flown and the step remembered for the page. */
  private stepReplica(replica: Replica, stepping: (outputs: StepOutputs) => StepTaken): void {
    const sent: number[] = []
    const id = this.nextStep++
    const { event, before, after, effects } = stepping({ send: (message) => sent.push(...this.send(replica.id, message, id)) })
    this.remember({ id, at: this.now, replica: replica.id, event, before, after, effects, flights: sent })
  }

  // ---- the network ---------------------------------------------------------------------------

  private send(from: NodeId, message: Message, stepId: number | undefined): number[] {
    const targets = recipients(message, this.ids)
    if (targets.length > 0) return targets.map((to) => this.fly(from, to, message, this.networkDelay(), stepId))
    if (this.clientIds.includes(message.dst)) return [this.fly(from, message.dst, message, CLIENT_DELAY_MS, stepId)]
    return [] // a hello, for a simulator there is none of here
  }

  private fly(from: NodeId, to: NodeId, message: Message, delay: number, stepId: number | undefined, copyOf?: number): number {
    const flight: Flight = { id: this.nextFlight++, from, to, message, sentAt: this.now, deliverAt: this.now + delay, sentBy: stepId, copyOf }
    this.flights.push(flight)
    return flight.id
  }

  private networkDelay(): number {
    return this.rng.between(NETWORK_DELAY_MS.min, NETWORK_DELAY_MS.max)
  }

  private deliver(flight: Flight): void {
    if (this.clientIds.includes(flight.to)) {
      this.endFlight(flight, 'delivered', undefined)
      return this.clientReceives(flight.message as ClientReply)
    }
    const replica = this.replica(flight.to)
    if (replica.state === undefined) return this.endFlight(flight, 'down', undefined)
    if (this.ids.includes(flight.from) && this.isCut(flight.from, flight.to)) return this.endFlight(flight, 'partition', undefined)
    this.stepReplica(replica, (outputs) => stepVirtualReplica(replica, step, received(this.now, flight.message), outputs))
    this.endFlight(flight, 'delivered', replica.lastStep)
  }

  // ---- clients -------------------------------------------------------------------------------

  /** Where a client's attempt goes: where it was told to, else the leader it remembers, else a living replica. */
  private route(to: NodeId | undefined): Route {
    return (remembered) => {
      if (to !== undefined) return to
      if (remembered !== undefined && this.ids.includes(remembered)) return remembered
      const alive = this.replicas.filter((r) => r.state !== undefined).map((r) => r.id)
      return this.rng.pick(alive.length > 0 ? alive : this.ids)
    }
  }

  private request(client: NodeId, kind: 'get' | 'put', key: string, value: string | undefined, to: NodeId | undefined): void {
    const request = this.clients.invoke(this.now, client, kind, key, value, this.route(to))
    const view: RequestView = { operation: this.clients.latestOperation(), attempts: [] }
    this.requests.push(view)
    this.sendRequest(view, request)
  }

  private sendRequest(view: RequestView, request: ClientRequest): void {
    view.attempts.push({ mid: request.MID, to: request.dst, sentAt: this.now })
    this.requestByMid.set(request.MID, view)
    this.fly(request.src, request.dst, request, CLIENT_DELAY_MS, undefined)
  }

  private clientReceives(reply: ClientReply): void {
    const view = this.requestByMid.get(reply.MID)
    const attempt = view?.attempts.find((a) => a.mid === reply.MID)
    if (attempt !== undefined && attempt.answer === undefined) {
      attempt.answer = { type: reply.type, from: reply.src, at: this.now, ...(reply.type === 'ok' && reply.value !== undefined ? { value: reply.value } : {}) }
    }
    const outcome = this.clients.reply(this.now, reply, this.route(undefined))
    if (outcome.violation !== undefined) this.clientViolations.push(outcome.violation)
    if (outcome.retry !== undefined && view !== undefined) this.sendRequest(view, outcome.retry)
  }

  /** The clients' history, each logical request once: what the linearizability checker reads. */
  history(): Operation[] {
    return this.clients.history()
  }

  // ---- a person's actions --------------------------------------------------------------------

  /** Takes `action` now, and records it in the scenario. Returns why it was refused, if it was. */
  act(action: Action): string | undefined {
    const refusal = this.refusal(action)
    if (refusal !== undefined) return refusal
    this.actions.push({ at: this.now, after: this.events, action })
    this.carryOut(action)
    return undefined
  }

  /** A scripted action: refused ones are skipped, as they were when recorded. */
  private apply(action: Action): void {
    if (this.refusal(action) !== undefined) return
    this.actions.push({ at: this.now, after: this.events, action })
    this.carryOut(action)
  }

  private refusal(action: Action): string | undefined {
    const known = (id: NodeId): boolean => this.ids.includes(id)
    switch (action.kind) {
      case 'put':
      case 'get':
        if (action.client >= this.clientIds.length) return `there is no client ${action.client}`
        if (action.key === '') return 'a key cannot be empty'
        if (action.kind === 'put' && action.value === '') return 'a put needs a value (the protocol reads an empty value as "never written")'
        if (action.to !== undefined && !known(action.to)) return `there is no replica ${action.to}`
        return undefined
      case 'kill':
        if (!known(action.replica)) return `there is no replica ${action.replica}`
        return this.replica(action.replica).state === undefined ? `${action.replica} is already down` : undefined
      case 'restart':
        if (!known(action.replica)) return `there is no replica ${action.replica}`
        return this.replica(action.replica).state !== undefined ? `${action.replica} is running` : undefined
      case 'link':
        return known(action.a) && known(action.b) && action.a !== action.b ? undefined : 'a link joins two replicas of the cluster'
      case 'partition': {
        const all = action.groups.flat()
        if (!all.every(known) || new Set(all).size !== all.length) return 'a partition puts each replica in at most one group'
        return undefined
      }
      case 'heal':
        return undefined
      case 'drop':
      case 'delay':
      case 'duplicate': {
        const flight = this.flights.find((f) => f.id === action.flight)
        if (flight === undefined) return `message #${action.flight} is no longer in flight`
        if (action.kind === 'duplicate' && this.clientIds.includes(flight.to)) return "a client's reply is not duplicated (the protocol's clients take one answer per request)"
        return undefined
      }
    }
  }

  private carryOut(action: Action): void {
    switch (action.kind) {
      case 'put':
        return this.request(this.clientIds[action.client]!, 'put', action.key, action.value, action.to)
      case 'get':
        return this.request(this.clientIds[action.client]!, 'get', action.key, undefined, action.to)
      case 'kill': {
        const replica = this.replica(action.replica)
        crashReplica(replica)
        this.clients.orphanAttemptsTo(replica.id)
        return
      }
      case 'restart': {
        const replica = this.replica(action.replica)
        replica.incarnation++
        this.events++
        return this.boot(replica)
      }
      case 'link':
        if (action.cut) this.cuts.add(linkKey(action.a, action.b))
        else this.cuts.delete(linkKey(action.a, action.b))
        return
      case 'partition':
        return this.partition(action.groups)
      case 'heal':
        this.cuts.clear()
        return
      case 'drop':
        return this.endFlight(this.flights.find((f) => f.id === action.flight)!, 'dropped', undefined)
      case 'delay':
        this.flights.find((f) => f.id === action.flight)!.deliverAt += action.ms
        return
      case 'duplicate': {
        const flight = this.flights.find((f) => f.id === action.flight)!
        this.fly(flight.from, flight.to, flight.message, Math.max(0, flight.deliverAt - this.now) + this.networkDelay(), flight.sentBy, flight.id)
        return
      }
    }
  }
}
