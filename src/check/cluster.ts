/**
 * Deterministic cluster simulation: N replicas' reducers driven in virtual time by a seeded
 * scheduler. Replica-to-replica datagrams are delayed, reordered, duplicated and lost; partitions
 * form and heal; replicas crash and restart with their persistent state; the protocol's clients
 * send gets and puts and follow redirects. After every step the Raft invariants and the client
 * checks run; at the end, the history must be linearizable and, once every fault has healed,
 * every request owed a reply must have been answered within a bounded time.
 *
 * With `membership`, the fault schedule also changes the cluster (thesis ch. 4, §3.10): an operator
 * asks the leader to remove a member, add a non-member back as a learner, promote a learner, or
 * transfer leadership to another voter, among the drops, partitions and crashes.
 *
 * The same options give the same run, byte for byte: all randomness comes from the seed.
 *
 * This module schedules and checks; the rest of check:sim lives beside it: its options and results
 * (sim-options.ts), the network and the fault schedule (sim-network.ts, sim-faults.ts), the
 * clients (sim-clients.ts, virtual-clients.ts) and the crash model (crash-model.ts). Each replica
 * is the virtual-time core's (effects/virtual-replica.ts).
 */
import { recipients, withoutDeadline } from '../effects/perform'
import { bootReplica, carryOut, crashReplica, virtualReplica, type StepOutputs, type VirtualReplica } from '../effects/virtual-replica'
import { started, received, timerFired, type Event } from '../domain/events'
import { withSettings } from '../domain/config'
import { isMember } from '../domain/membership'
import { emptyPersistent, type ReplicaState } from '../domain/state'
import { BROADCAST, type AdminAction, type ClientReply, type ClientRequest, type Message, type NodeId } from '../domain/wire'
import type { TimerName } from '../domain/effect'
import { asClientReply, Clients, OPERATOR, type Route } from './virtual-clients'
import { crashPoint, putsOf, sendsBeforeStore, storedProblem } from './crash-model'
import { Agenda } from './heap'
import { clientIds, hexId, replicaIds } from '../domain/ids'
import type { Operation } from './linearizability'
import { RaftInvariants } from './raft-invariants'
import type { Violation } from './violation'
import { Rng } from './rng'
import { CLIENT_DELAY_MS, RequestStream, routeAmong } from './sim-clients'
import { injectOneFault, operatorAsks } from './sim-faults'
import { datagramProblem, SimNetwork } from './sim-network'
import { defaultSimOptions, emptySimStats, type SimFailure, type SimOptions, type SimResult, type SimStats } from './sim-options'
import { Trace, formatMessage } from './trace'

// The options and results live in sim-options.ts; check:sim's users take them from here too.
export { defaultSimOptions, describeFailure, sweepOptions, type FaultOptions, type NetworkOptions } from './sim-options'
export type { SimFailure, SimObserver, SimOptions, SimResult, SimStats } from './sim-options'

type Job =
  | { readonly kind: 'deliver'; readonly to: number; readonly message: Message }
  /** Stale unless the replica's timer is still set for `at` (setting a timer again moves it). */
  | { readonly kind: 'timer'; readonly to: number; readonly timer: TimerName; readonly at: number }
  | { readonly kind: 'reply'; readonly message: ClientReply }
  | { readonly kind: 'request' }
  | { readonly kind: 'fault' }
  | { readonly kind: 'heal' }
  | { readonly kind: 'probe' }

/** A replica in virtual time (the core's), and the crash this simulation may have in store for it. */
interface Replica extends VirtualReplica {
  /** It crashes in the middle of its next step, after carrying out only some of the step's effects. */
  crashInStep: boolean
}

const PROBE_INTERVAL_MS = 100

class FailureSignal {
  constructor(readonly violation: Violation) {}
}

export class ClusterSimulation {
  readonly options: SimOptions
  private readonly rng: Rng
  private readonly agenda = new Agenda<Job>()
  private readonly replicas: Replica[]
  /** Where each replica's sends and timers go. */
  private readonly outputs: StepOutputs[]
  private readonly states: (ReplicaState | undefined)[]
  private readonly ids: NodeId[]
  private readonly clientIdList: NodeId[]
  private readonly clients: Clients
  private readonly invariants = new RaftInvariants()
  private readonly trace: Trace
  private now = 0
  private readonly network: SimNetwork
  private readonly requests: RequestStream
  private healedAt: number | undefined
  private hash = 0x811c9dc5
  private finished = false
  readonly stats: SimStats = emptySimStats()

  constructor(options: Partial<SimOptions> & { seed: number }) {
    const given = { ...defaultSimOptions, ...options }
    this.options = given.reads === undefined ? given : { ...given, settings: withSettings(given.settings, { reads: given.reads }) }
    this.rng = new Rng(this.options.seed)
    this.ids = replicaIds(this.options.replicas)
    this.clientIdList = clientIds(this.options.replicas, this.options.clients)
    this.clients = new Clients(this.clientIdList, this.options.workload === 'own')
    this.replicas = this.ids.map((id, i) => ({ ...virtualReplica(id, this.options.initialPersistent[i]), crashInStep: false }))
    this.outputs = this.ids.map((_, index) => ({
      send: (message: Message) => this.send(index, message),
      timerSet: (timer: TimerName, at: number) => this.agenda.push(at, { kind: 'timer', to: index, timer, at }),
    }))
    this.states = this.ids.map(() => undefined)
    this.trace = new Trace(this.options.traceCapacity)
    this.network = new SimNetwork(this.rng, this.ids.length, this.options.network)
    this.requests = new RequestStream(this.rng, this.options, this.clients, this.clientIdList)
  }

  run(): SimResult {
    let failure: SimFailure | undefined
    try {
      this.schedule()
      while (!this.finished) {
        const next = this.agenda.pop()
        if (next === undefined) break
        this.now = next.at
        this.perform(next.item)
        if (this.stats.steps > this.options.maxSteps) this.fail('Runaway', `more than ${this.options.maxSteps} steps`)
      }
      this.checkHistory()
    } catch (e) {
      const violation =
        e instanceof FailureSignal
          ? e.violation
          : { invariant: 'No exceptions', detail: e instanceof Error ? (e.stack ?? e.message) : String(e) }
      failure = { seed: this.options.seed, at: this.now, ...violation, trace: this.trace.formatSafely() }
    }
    this.stats.simulatedMs = this.now
    Object.assign(this.stats, this.clients.figures())
    this.stats.committed = this.invariants.committedLength - 1
    return { seed: this.options.seed, failure, stats: this.stats, fingerprint: this.hash >>> 0 }
  }

  // ---- the schedule ------------------------------------------------------------------------

  private schedule(): void {
    const o = this.options
    this.replicas.forEach((_, i) => this.agenda.push(i * this.rng.between(0, 50), { kind: 'deliver', to: i, message: BOOT }))
    this.agenda.push(1_000 + this.rng.between(0, o.requestIntervalMs), { kind: 'request' })
    if (o.faults.crashes || o.faults.partitions) this.agenda.push(this.faultDelay(), { kind: 'fault' })
    this.agenda.push(o.faultPhaseMs, { kind: 'heal' })
  }

  private faultDelay(): number {
    const mean = this.options.faults.meanIntervalMs
    return this.now + this.rng.between(Math.floor(mean / 4), Math.floor((mean * 7) / 4))
  }

  private perform(job: Job): void {
    switch (job.kind) {
      case 'deliver':
        return job.message === BOOT ? this.boot(job.to) : this.deliver(job.to, job.message)
      case 'timer': {
        const r = this.replicas[job.to]!
        if (r.state !== undefined && r.timers[job.timer] === job.at) {
          r.timers = withoutDeadline(r.timers, job.timer)
          this.stepReplica(job.to, timerFired(this.now, job.timer))
        }
        return
      }
      case 'reply':
        return this.clientReceives(job.message)
      case 'request':
        return this.newRequest()
      case 'fault':
        return this.injectFault()
      case 'heal':
        return this.healAll()
      case 'probe':
        return this.probe()
    }
  }

  // ---- replicas ----------------------------------------------------------------------------

  private boot(index: number): void {
    const r = this.replicas[index]!
    if (r.state !== undefined) return
    this.states[index] = bootReplica(r, { peers: this.ids, seed: this.rng.seed(), settings: this.options.settings })
    this.stepReplica(index, started(this.now), true)
  }

  /** The history of client operations so far (each logical request once). */
  history(): Operation[] {
    return this.clients.history()
  }

  private crash(index: number): void {
    const r = this.replicas[index]!
    if (r.state === undefined) return
    // Every step stores what it changed of the persistent state: what the crash keeps must be it.
    const stored = r.stored ?? emptyPersistent
    const problem = storedProblem(r.id, stored, r.state)
    if (problem !== undefined) this.fail('Persistent state stored before it is used', problem)
    this.clients.storedAtCrash(putsOf(stored.log))
    crashReplica(r)
    this.states[index] = undefined
    r.crashInStep = false
    this.clients.orphanAttemptsTo(r.id)
    this.stats.crashes++
    this.note(`crash ${r.id}`)
    this.options.observer?.crashed(this.now, r.id)
  }

  private deliver(index: number, message: Message): void {
    const r = this.replicas[index]!
    if (r.state === undefined) {
      if (message.type === 'get' || message.type === 'put') this.clients.orphanAttemptsTo(r.id)
      return
    }
    this.stepReplica(index, received(this.now, message))
  }

  private stepReplica(index: number, event: Event, fromBoot = false): void {
    const r = this.replicas[index]!
    const before = r.state!
    const [after, effects] = this.options.step(before, event)
    this.stats.steps++
    this.trace.add({ kind: 'step', at: this.now, replica: r.id, event, effects })
    if (this.options.fingerprint) this.mix(`${this.now}|${r.id}|${JSON.stringify(event)}|${JSON.stringify(effects)}`)
    if (sendsBeforeStore(effects)) {
      this.fail('Persistent state stored before it is used', `${r.id} sends before it stores the step's writes: ${effects.map((e) => e.kind).join(', ')}`)
    }
    // A crash in the middle of the step (crash-model.ts): the effects before `cut` are carried out.
    const crashing = r.crashInStep
    const { cut, writeLost } = crashPoint(this.rng, crashing, effects)
    if (!writeLost) {
      this.states[index] = after
      if (after.persistent.currentTerm > this.stats.maxTerm) this.stats.maxTerm = after.persistent.currentTerm
      this.options.observer?.stepped(this.now, r.id, after)
      const violation = this.invariants.observe(fromBoot ? undefined : before, after)
      if (violation !== undefined) throw new FailureSignal(violation)
      // What a crash keeps: only what the replica asked to store (the core keeps it).
      carryOut(r, after, cut === effects.length ? effects : effects.slice(0, cut), this.now, this.outputs[index]!)
    }
    if (crashing) {
      r.crashInStep = false
      this.stats.crashesInStep++
      if (writeLost) this.stats.writesLost++
      this.note(`${r.id} crashes after ${cut} of its step's ${effects.length} effects${writeLost ? ', its write lost' : ''}`)
      this.crash(index)
    }
  }

  // ---- the network -------------------------------------------------------------------------

  private send(from: number, message: Message): void {
    const sender = this.ids[from]!
    const problem = datagramProblem(sender, message, this.ids)
    if (problem !== undefined) throw new FailureSignal(problem)
    if (message.type === 'hello') return
    const targets = recipients(message, this.ids)
    if (targets.length > 0 || message.dst === BROADCAST) {
      for (const to of targets) this.transmit(from, this.ids.indexOf(to), message)
      return
    }
    if (message.dst === OPERATOR || this.clientIdList.includes(message.dst)) {
      const reply = asClientReply(message)
      if (typeof reply === 'string' && reply !== 'operator') this.fail('Well-formed datagrams', `${sender} sent ${reply}`)
      if (reply === 'operator') {
        if (message.type === 'adminReply') this.stats.changesDone++
        this.note(`operator hears ${formatMessage(message)}`)
        return
      }
      this.agenda.push(this.now + CLIENT_DELAY_MS, { kind: 'reply', message: reply as ClientReply })
      return
    }
    this.fail('Well-formed datagrams', `${sender} sent to unknown destination ${message.dst}`)
  }

  private transmit(from: number, to: number, message: Message): void {
    this.stats.datagrams++
    const fate = this.network.fate(from, to)
    if (fate === 'partition' || fate === 'random') {
      this.stats.dropped++
      this.options.observer?.transmitted(this.now, this.ids[from]!, this.ids[to]!, fate)
      return
    }
    this.options.observer?.transmitted(this.now, this.ids[from]!, this.ids[to]!, 'delivered')
    for (const delay of fate) this.agenda.push(this.now + delay, { kind: 'deliver', to, message })
  }

  // ---- clients -----------------------------------------------------------------------------

  private readonly route: Route = (remembered) =>
    routeAmong(this.rng, this.replicas.filter((r) => r.state !== undefined).map((r) => r.id), this.ids, remembered)

  private newRequest(): void {
    const o = this.options
    if (this.now >= o.faultPhaseMs) return
    this.agenda.push(this.now + this.rng.between(1, 2 * o.requestIntervalMs), { kind: 'request' })
    const request = this.requests.next(this.now, this.route)
    this.options.observer?.requested(this.now, this.clients.latestOperation(), request)
    this.sendToReplica(request)
  }

  private sendToReplica(request: ClientRequest): void {
    this.agenda.push(this.now + CLIENT_DELAY_MS, { kind: 'deliver', to: this.ids.indexOf(request.dst), message: request })
  }

  private clientReceives(message: ClientReply): void {
    this.trace.add({ kind: 'reply', at: this.now, message })
    this.options.observer?.replied(this.now, message)
    const outcome = this.clients.reply(this.now, message, this.route)
    if (outcome.violation !== undefined) throw new FailureSignal(outcome.violation)
    if (outcome.retry !== undefined) {
      this.options.observer?.retried(this.now, message.MID, outcome.retry)
      this.sendToReplica(outcome.retry)
    }
  }

  // ---- faults ------------------------------------------------------------------------------

  private injectFault(): void {
    const o = this.options
    if (this.now >= o.faultPhaseMs) return
    this.agenda.push(this.faultDelay(), { kind: 'fault' })
    injectOneFault(this.rng, o.faults, {
      up: this.replicas.flatMap((r, i) => (r.state !== undefined ? [i] : [])),
      down: this.replicas.flatMap((r, i) => (r.state === undefined && r.stored !== undefined ? [i] : [])),
      crash: (i) => this.crash(i),
      crashInNextStep: (i) => {
        this.replicas[i]!.crashInStep = true
      },
      crashLeader: () => {
        const leader = this.currentLeader()
        if (leader !== undefined) {
          this.crash(leader)
          this.clients.forgetLeaders()
        }
      },
      restart: (i) => this.restart(i),
      partition: (aroundLeader) => this.partition(aroundLeader),
      healPartition: () => this.healPartition(),
      changeMembership: (action) => this.changeMembership(action),
    })
  }

  /** The operator asks the leader for one change of the cluster, if one can be asked (sim-faults.ts). */
  private changeMembership(action: AdminAction): void {
    const leader = this.currentLeader()
    const request = leader === undefined ? undefined : operatorAsks(this.rng, this.states[leader]!, this.ids, action, this.stats.changes + 1)
    if (request === undefined) return
    this.stats.changes++
    this.note(`operator asks ${request.dst}: ${action} ${request.member}`)
    this.agenda.push(this.now + CLIENT_DELAY_MS, { kind: 'deliver', to: leader!, message: request })
  }

  private restart(index: number): void {
    this.note(`restart ${this.ids[index]}`)
    this.options.observer?.restarted(this.now, this.ids[index]!)
    this.boot(index)
  }

  /** A random split in two; `aroundLeader` isolates the current leader in a minority more often. */
  private partition(aroundLeader: boolean): void {
    const { order, cut } = this.network.split(aroundLeader ? this.currentLeader() : undefined)
    this.stats.partitions++
    if (this.rng.chance(0.5)) this.clients.forgetLeaders()
    this.options.observer?.partitioned(this.now, this.network.sides().map((side) => side.map((i) => this.ids[i]!)))
    this.note(`partition ${order.slice(0, cut).map((i) => this.ids[i]).join(',')} | ${order.slice(cut).map((i) => this.ids[i]).join(',')}`)
  }

  private healPartition(): void {
    this.network.heal()
    this.options.observer?.partitioned(this.now, null)
    this.note('partition healed')
  }

  private healAll(): void {
    this.healPartition()
    // The fault phase is over: a crash armed for a replica's next step is called off.
    for (const r of this.replicas) r.crashInStep = false
    for (let i = 0; i < this.replicas.length; i++) if (this.replicas[i]!.state === undefined) this.restart(i)
    this.network.calm()
    this.healedAt = this.now
    this.options.observer?.healedAll(this.now)
    this.note('all faults healed')
    this.agenda.push(this.now + PROBE_INTERVAL_MS, { kind: 'probe' })
  }

  private currentLeader(): number | undefined {
    let best: number | undefined
    this.states.forEach((s, i) => {
      if (s?.role === 'leader' && (best === undefined || s.persistent.currentTerm > this.states[best]!.persistent.currentTerm)) best = i
    })
    return best
  }

  // ---- liveness and the history --------------------------------------------------------------

  /** After the heal: done once a leader of the newest term exists and nothing is owed; a stall past the bound fails. */
  private probe(): void {
    const leader = this.currentLeader()
    // A replica removed from the cluster hears from no leader again: its term does not count.
    const members = leader === undefined ? undefined : this.states[leader]!.configuration
    const maxTerm = Math.max(
      ...this.states.map((s) => (s === undefined || (members !== undefined && !isMember(members, s.id)) ? 0 : s.persistent.currentTerm)),
    )
    const hasLeader = leader !== undefined && this.states[leader]!.persistent.currentTerm === maxTerm
    const pending = this.clients.pending()
    if (hasLeader && pending.length === 0) {
      this.finished = true
      return
    }
    if (this.now - this.healedAt! > this.options.livenessBoundMs) {
      const what = hasLeader
        ? `${pending.length} request(s) unanswered, e.g. ${pending
            .slice(0, 3)
            .map((t) => `${t.op.kind} ${t.currentMid ?? '(no attempt)'} to ${t.target}`)
            .join(', ')}`
        : `no leader of term ${maxTerm}`
      this.fail('Liveness', `${this.options.livenessBoundMs} ms after every fault healed: ${what}`)
    }
    this.agenda.push(this.now + PROBE_INTERVAL_MS, { kind: 'probe' })
  }

  private checkHistory(): void {
    const violation = this.clients.historyViolation()
    if (violation !== undefined) throw new FailureSignal(violation)
  }

  // ---- helpers -----------------------------------------------------------------------------

  private note(text: string): void {
    this.trace.add({ kind: 'note', at: this.now, text })
    if (this.options.fingerprint) this.mix(`${this.now}|${text}`)
  }

  private fail(invariant: string, detail: string): never {
    throw new FailureSignal({ invariant, detail })
  }

  private mix(text: string): void {
    let h = this.hash
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
    this.hash = h
  }
}

/** A stand-in message that marks a replica's (re)boot job. */
const BOOT = { src: hexId(0xffff), dst: hexId(0xffff), leader: hexId(0xffff), type: 'hello' } as Message

export const simulate = (options: Partial<SimOptions> & { seed: number }): SimResult => new ClusterSimulation(options).run()

/** A run and its client history (each logical request once), for writing it out. */
export const simulateWithHistory = (options: Partial<SimOptions> & { seed: number }): { readonly result: SimResult; readonly history: Operation[] } => {
  const simulation = new ClusterSimulation(options)
  const result = simulation.run()
  return { result, history: simulation.history() }
}
