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
 */
import { recipients, withoutDeadline } from '../effects/perform'
import { bootReplica, carryOut, crashReplica, virtualReplica, type StepOutputs, type VirtualReplica } from '../effects/virtual-replica'
import { started, received, timerFired, type Event } from '../domain/events'
import { defaultSettings, withSettings, type ReadStyle, type Settings } from '../domain/config'
import { emptyPersistent, type PersistentState, type ReplicaState } from '../domain/state'
import { lastIndex, type Log } from '../domain/log'
import { encodeSnapshot } from '../domain/kv'
import { isMember, isVoter } from '../domain/membership'
import {
  BROADCAST,
  MAX_DATAGRAM_BYTES,
  UNKNOWN_LEADER,
  type AdminAction,
  type AppendEntries,
  type ClientReply,
  type ClientRequest,
  type Entry,
  type Message,
  type NodeId,
  type PutCommand,
} from '../domain/wire'
import type { TimerName } from '../domain/effect'
import { asClientReply, Clients, OPERATOR, operatorRequest, type Route } from './virtual-clients'
import { Agenda } from './heap'
import { clientIds, hexId, replicaIds, sameOptionalId } from '../domain/ids'
import { checkLinearizable, describeOperation, invariantOf, isCheckerVerdict, type Operation } from './linearizability'
import { RaftInvariants, type Violation } from './raft-invariants'
import { Rng } from './rng'
import { realStep, type Stepper } from './stepper'
import { Trace, formatItem, formatMessage } from './trace'
import { sharedRequest, type Workload } from './workload'

export interface NetworkOptions {
  readonly minDelayMs: number
  readonly maxDelayMs: number
  readonly dropRate: number
  readonly duplicateRate: number
}

export interface FaultOptions {
  readonly crashes: boolean
  readonly partitions: boolean
  /** Membership changes and leadership transfers, asked of the leader by an operator (default: none). */
  readonly membership?: boolean
  /** Mean time between fault events during the fault phase. */
  readonly meanIntervalMs: number
}

export interface SimOptions {
  readonly seed: number
  readonly replicas: number
  readonly clients: number
  /** Clients send requests and faults happen until then; afterwards everything heals. */
  readonly faultPhaseMs: number
  /** After the heal, a leader must exist and every owed reply must arrive within this. */
  readonly livenessBoundMs: number
  readonly requestIntervalMs: number
  readonly getFraction: number
  /** Keys of its own per client (`own`), or a few keys all clients share (`shared`); workload.ts. */
  readonly workload: Workload
  readonly keysPerClient: number
  readonly network: NetworkOptions
  readonly faults: FaultOptions
  readonly settings: Settings
  /** How leaders confirm gets (Settings.reads), over what `settings` says; undefined: as `settings` says. */
  readonly reads: ReadStyle | undefined
  readonly step: Stepper
  /** How many recent steps to keep for a failure's trace. */
  readonly traceCapacity: number
  /** A guard against runaway loops at one instant. */
  readonly maxSteps: number
  /** Persistent states the replicas boot with (as if restarted), e.g. the prefix of a known scenario. */
  readonly initialPersistent: readonly (PersistentState | undefined)[]
  /** Hash every event and effect (for determinism tests; slower). */
  readonly fingerprint: boolean
  /** Told what happens, for a timeline of the run (src/timeline); it only watches. */
  readonly observer: SimObserver | undefined
}

/**
 * What a timeline needs to see of a run. Called synchronously; it must not change anything it is
 * handed, and the run is the same with or without it (it draws no random numbers). Times in ms.
 */
export interface SimObserver {
  /** A replica took a step (booting included); `state` is its state after it. */
  stepped(at: number, replica: NodeId, state: ReplicaState): void
  crashed(at: number, replica: NodeId): void
  restarted(at: number, replica: NodeId): void
  /** The replicas are split into these groups from now on; null: whole again. */
  partitioned(at: number, groups: readonly (readonly NodeId[])[] | null): void
  /** Every fault healed and losses stopped: the end phase. */
  healedAll(at: number): void
  /** A replica-to-replica copy, delivered or dropped (by the partition or at random). */
  transmitted(at: number, from: NodeId, to: NodeId, fate: 'delivered' | 'partition' | 'random'): void
  /** The first attempt of a new client request. */
  requested(at: number, operation: Operation, request: ClientRequest): void
  /** The client resends under a new MID after a redirect or fail reply to `previousMid`. */
  retried(at: number, previousMid: string, request: ClientRequest): void
  /** A reply reaches a client. */
  replied(at: number, message: ClientReply): void
}

export const defaultSimOptions: SimOptions = {
  seed: 1,
  replicas: 3,
  clients: 4,
  faultPhaseMs: 20_000,
  livenessBoundMs: 20_000,
  requestIntervalMs: 100,
  getFraction: 0.6,
  workload: 'own',
  keysPerClient: 3,
  network: { minDelayMs: 1, maxDelayMs: 40, dropRate: 0.05, duplicateRate: 0.02 },
  faults: { crashes: true, partitions: true, meanIntervalMs: 2_000 },
  settings: defaultSettings,
  reads: undefined,
  step: realStep,
  traceCapacity: 120,
  maxSteps: 5_000_000,
  initialPersistent: [],
  fingerprint: false,
  observer: undefined,
}

/**
 * Options for one seed of a sweep: the network and fault mix vary with the seed, so that a sweep
 * covers calm runs, lossy runs, partitions and crashes.
 */
export const sweepOptions = (seed: number, base: Partial<SimOptions> = {}): SimOptions => {
  const rng = new Rng(seed ^ 0x5bd1e995)
  const replicas = base.replicas ?? rng.pick([3, 3, 3, 5, 5])
  const maxDelayMs = rng.pick([5, 20, 50, 150])
  const options: SimOptions = {
    ...defaultSimOptions,
    replicas,
    network: {
      minDelayMs: 1,
      maxDelayMs,
      dropRate: rng.pick([0, 0.01, 0.05, 0.2, 0.5]),
      duplicateRate: rng.pick([0, 0.02, 0.1]),
    },
    faults: {
      crashes: rng.chance(0.7),
      partitions: rng.chance(0.7),
      meanIntervalMs: rng.pick([500, 1_500, 4_000]),
    },
    requestIntervalMs: rng.pick([20, 100, 300]),
    ...base,
    seed,
  }
  // §7: most seeds compact their logs often, half send snapshots in pieces of 400 characters, so that
  // snapshots are taken, sent and restarted from under every fault. Drawn last: every seed keeps
  // the network and faults it had before snapshots existed.
  const snapshotEvery = rng.pick([4, 16, 64, defaultSettings.limits.snapshotEvery])
  const snapshotChunkChars = rng.pick([400, defaultSettings.limits.snapshotChunkChars])
  // Thesis ch. 4: half the seeds change the cluster's membership and move its leader, drawn after
  // the rest so that every seed keeps what it had before; options that name the faults keep theirs.
  const membership = rng.chance(0.5)
  const withMembership = base.faults === undefined ? { ...options, faults: { ...options.faults, membership } } : options
  return base.settings === undefined
    ? { ...withMembership, settings: withSettings(withMembership.settings, { limits: { snapshotEvery, snapshotChunkChars } }) }
    : withMembership
}

export interface SimFailure {
  readonly seed: number
  readonly at: number
  readonly invariant: string
  readonly detail: string
  readonly trace: string
}

export interface SimStats {
  steps: number
  simulatedMs: number
  operations: number
  completed: number
  duplicates: number
  redirects: number
  fails: number
  crashes: number
  /** Crashes in the middle of a step, and those of them that lost the step's unsynced write. */
  crashesInStep: number
  writesLost: number
  partitions: number
  /** Membership changes and leadership transfers the operator asked for, and those the leader carried out. */
  changes: number
  changesDone: number
  datagrams: number
  dropped: number
  maxTerm: number
  committed: number
}

export interface SimResult {
  readonly seed: number
  readonly failure: SimFailure | undefined
  readonly stats: SimStats
  readonly fingerprint: number
}

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

/** Client traffic is never lost, delayed by a constant: it stays in order. */
const CLIENT_DELAY_MS = 1
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
  private network: NetworkOptions
  /** Partition group of each replica; all 0 when healed. */
  private group: number[]
  private healedAt: number | undefined
  private keyCounter = 0
  private valueCounter = 0
  private hash = 0x811c9dc5
  private finished = false
  readonly stats: SimStats = {
    steps: 0,
    simulatedMs: 0,
    operations: 0,
    completed: 0,
    duplicates: 0,
    redirects: 0,
    fails: 0,
    crashes: 0,
    crashesInStep: 0,
    writesLost: 0,
    partitions: 0,
    changes: 0,
    changesDone: 0,
    datagrams: 0,
    dropped: 0,
    maxTerm: 0,
    committed: 0,
  }

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
    this.network = this.options.network
    this.group = this.ids.map(() => 0)
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
      failure = { seed: this.options.seed, at: this.now, ...violation, trace: this.safeTrace() }
    }
    this.stats.simulatedMs = this.now
    this.stats.operations = this.clients.operationCount
    this.stats.completed = this.clients.completedCount()
    this.stats.duplicates = this.clients.duplicates
    this.stats.redirects = this.clients.redirects
    this.stats.fails = this.clients.fails
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
    if (!samePersistent(stored, r.state.persistent)) {
      this.fail('Persistent state stored before it is used', `${r.id} crashed with term ${r.state.persistent.currentTerm} and ${lastIndex(r.state.persistent.log)} entries in memory, but stored term ${stored.currentTerm} and ${lastIndex(stored.log)} entries`)
    }
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
    // Figure 2: stored "before responding to RPCs": no datagram of a step leaves before its write.
    const persistAt = effects.findIndex((e) => e.kind === 'persist')
    if (persistAt > 0 && effects.slice(0, persistAt).some((e) => e.kind === 'send')) {
      this.fail('Persistent state stored before it is used', `${r.id} sends before it stores the step's writes: ${effects.map((e) => e.kind).join(', ')}`)
    }
    // A crash in the middle of the step: the effects before a random point are carried out, the
    // rest are lost. A crash before the persist effect (a write not yet synced) loses the step
    // whole: nothing of it was stored or sent, so it never happened, and the checks never see it
    // (what a replica held only in memory for an instant counts for nothing, a majority included).
    // The replica restarts from before it: harmless, since nothing that depended on it left.
    const crashing = r.crashInStep
    const cut = crashing ? this.rng.between(0, effects.length) : effects.length
    const writeLost = crashing && persistAt >= 0 && cut <= persistAt
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
    if (message.src !== sender) this.fail('Well-formed datagrams', `${sender} sent a datagram with src ${message.src}`)
    if (message.leader !== UNKNOWN_LEADER && !this.ids.includes(message.leader)) {
      this.fail('Well-formed datagrams', `${sender} named ${message.leader} as leader: ${formatMessage(message)}`)
    }
    if (message.type === 'hello') return
    if (!isReadable(message)) {
      this.fail('Effects are plain data', `${sender} sent a ${message.type} whose contents are not readable after the step (a leaked immer draft)`)
    }
    if (message.type === 'append' && message.entries.length > 16 && appendJsonLength(message) > MAX_DATAGRAM_BYTES) {
      this.fail('Well-formed datagrams', `${sender} sent an AppendEntries over ${MAX_DATAGRAM_BYTES} bytes`)
    }
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
    const cut = this.group[from] !== this.group[to]
    if (cut || this.rng.chance(this.network.dropRate)) {
      this.stats.dropped++
      this.options.observer?.transmitted(this.now, this.ids[from]!, this.ids[to]!, cut ? 'partition' : 'random')
      return
    }
    this.options.observer?.transmitted(this.now, this.ids[from]!, this.ids[to]!, 'delivered')
    this.agenda.push(this.now + this.delay(), { kind: 'deliver', to, message })
    if (this.rng.chance(this.network.duplicateRate)) this.agenda.push(this.now + this.delay(), { kind: 'deliver', to, message })
  }

  private delay(): number {
    return this.rng.between(this.network.minDelayMs, this.network.maxDelayMs)
  }

  // ---- clients -----------------------------------------------------------------------------

  private readonly route: Route = (remembered) => {
    const alive = this.replicas.filter((r) => r.state !== undefined).map((r) => r.id)
    if (remembered !== undefined && alive.includes(remembered)) return remembered
    return this.rng.pick(alive.length > 0 ? alive : this.ids)
  }

  private newRequest(): void {
    const o = this.options
    if (this.now >= o.faultPhaseMs) return
    this.agenda.push(this.now + this.rng.between(1, 2 * o.requestIntervalMs), { kind: 'request' })
    const client = this.rng.pick(this.clientIdList)
    const keys = this.clients.ackedKeys(client)
    let request: ClientRequest
    if (o.workload === 'shared') {
      const { kind, key } = sharedRequest(this.rng, o.getFraction)
      const value = kind === 'put' ? (this.valueCounter++).toString(16).padStart(32, '0') : undefined
      request = this.clients.invoke(this.now, client, kind, key, value, this.route)
    } else if (keys.length > 0 && this.rng.chance(o.getFraction)) {
      request = this.clients.invoke(this.now, client, 'get', this.rng.pick(keys), undefined, this.route)
    } else {
      const fresh = keys.length === 0 || (keys.length < o.keysPerClient && this.rng.chance(0.5))
      const key = fresh ? `${client}-key-${(this.keyCounter++).toString().padStart(23, '0')}` : this.rng.pick(keys)
      const value = (this.valueCounter++).toString(16).padStart(32, '0')
      request = this.clients.invoke(this.now, client, 'put', key, value, this.route)
    }
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
    const up = this.replicas.flatMap((r, i) => (r.state !== undefined ? [i] : []))
    const down = this.replicas.flatMap((r, i) => (r.state === undefined && r.stored !== undefined ? [i] : []))
    const choices: (() => void)[] = []
    if (o.faults.crashes && up.length > 1) {
      choices.push(() => this.crash(this.rng.pick(up)))
      choices.push(() => {
        this.replicas[this.rng.pick(up)]!.crashInStep = true
      })
      choices.push(() => {
        const leader = this.currentLeader()
        if (leader !== undefined) {
          this.crash(leader)
          this.clients.forgetLeaders()
        }
      })
    }
    if (o.faults.crashes && down.length > 0) {
      choices.push(() => this.restart(this.rng.pick(down)))
      choices.push(() => this.restart(this.rng.pick(down)))
    }
    if (o.faults.partitions) {
      choices.push(() => this.partition(false))
      choices.push(() => this.partition(true))
      choices.push(() => this.healPartition())
    }
    if (o.faults.membership === true) {
      choices.push(() => this.changeMembership('remove'))
      choices.push(() => this.changeMembership('add'))
      choices.push(() => this.changeMembership('promote'))
      choices.push(() => this.changeMembership('transfer'))
    }
    if (choices.length > 0) this.rng.pick(choices)()
  }

  /**
   * The operator asks the leader (as the leader's own configuration stands) for one change: remove
   * a member while at least two voters remain, add a non-member back as a learner, promote a
   * learner, or hand leadership to another voter. The leader may refuse (a change in progress, a
   * learner not caught up): the operator does not insist.
   */
  private changeMembership(action: AdminAction): void {
    const leader = this.currentLeader()
    if (leader === undefined) return
    const state = this.states[leader]!
    const c = state.configuration
    const candidates = this.ids.filter((id) => {
      switch (action) {
        case 'remove':
          return isMember(c, id) && (!isVoter(c, id) || c.voters.length > 2)
        case 'add':
          return !isMember(c, id)
        case 'promote':
          return c.learners.includes(id)
        case 'transfer':
          return isVoter(c, id) && id !== state.id
        default:
          return false
      }
    })
    if (candidates.length === 0) return
    const member = this.rng.pick(candidates)
    this.stats.changes++
    const MID = `op-${this.stats.changes}`
    this.note(`operator asks ${state.id}: ${action} ${member}`)
    this.agenda.push(this.now + CLIENT_DELAY_MS, {
      kind: 'deliver',
      to: leader,
      message: operatorRequest(state.id, MID, action, member),
    })
  }

  private restart(index: number): void {
    this.note(`restart ${this.ids[index]}`)
    this.options.observer?.restarted(this.now, this.ids[index]!)
    this.boot(index)
  }

  /** A random split in two; `aroundLeader` isolates the current leader in a minority more often. */
  private partition(aroundLeader: boolean): void {
    const n = this.ids.length
    const order = this.ids.map((_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = this.rng.between(0, i)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    const leader = this.currentLeader()
    if (aroundLeader && leader !== undefined) {
      order.splice(order.indexOf(leader), 1)
      order.unshift(leader)
    }
    const cut = this.rng.between(1, n - 1)
    this.group = this.ids.map(() => 1)
    for (let k = 0; k < cut; k++) this.group[order[k]!] = 0
    this.stats.partitions++
    if (this.rng.chance(0.5)) this.clients.forgetLeaders()
    if (this.options.observer !== undefined) {
      this.options.observer.partitioned(this.now, [0, 1].map((g) => this.ids.filter((_, i) => this.group[i] === g)))
    }
    this.note(`partition ${order.slice(0, cut).map((i) => this.ids[i]).join(',')} | ${order.slice(cut).map((i) => this.ids[i]).join(',')}`)
  }

  private healPartition(): void {
    this.group = this.ids.map(() => 0)
    this.options.observer?.partitioned(this.now, null)
    this.note('partition healed')
  }

  private healAll(): void {
    this.healPartition()
    // The fault phase is over: a crash armed for a replica's next step is called off.
    for (const r of this.replicas) r.crashInStep = false
    for (let i = 0; i < this.replicas.length; i++) if (this.replicas[i]!.state === undefined) this.restart(i)
    this.network = { ...this.network, dropRate: 0, duplicateRate: 0 }
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
    const result = checkLinearizable(this.clients.history())
    if (!result.ok) {
      this.fail(
        invariantOf(result.verdict),
        `key ${result.key}: ${result.reason}\n${result.operations.map((op) => `  ${describeOperation(op)}`).join('\n')}`,
      )
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** The trace, even when some of it can no longer be read (a revoked immer draft in an effect). */
  private safeTrace(): string {
    try {
      return this.trace.format()
    } catch {
      return this.trace
        .recent()
        .map((item) => {
          try {
            return formatItem(item)
          } catch (e) {
            return `t=${item.at} (unreadable: ${e instanceof Error ? e.message : String(e)})`
          }
        })
        .join('\n')
    }
  }

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

/** The puts of a log's entries. */
const putsOf = (log: Log): PutCommand[] => log.entries.flatMap((entry) => (entry.command.op === 'put' ? [entry.command] : []))

/** Whether the nested parts of a message can still be read (a revoked immer draft throws). */
const isReadable = (message: Message): boolean => {
  try {
    if (message.type === 'append') return message.entries.every((e) => typeof e.term === 'number')
    if (message.type === 'forward') return message.puts.every((p) => typeof p.MID === 'string')
    return true
  } catch {
    return false
  }
}

/** The exact length of an entry's JSON, computed once per entry object (entries are shared, never changed). */
const entryJsonLength = new WeakMap<Entry, number>()

/**
 * `JSON.stringify(m).length` of an AppendEntries, without stringifying its entries each time: the
 * message with no entries, plus each entry's (cached) length and the commas between them.
 */
export const appendJsonLength = (m: AppendEntries): number => {
  let total = JSON.stringify({ ...m, entries: [] }).length + Math.max(0, m.entries.length - 1)
  for (const entry of m.entries) {
    let length = entryJsonLength.get(entry)
    if (length === undefined) {
      length = JSON.stringify(entry).length
      entryJsonLength.set(entry, length)
    }
    total += length
  }
  return total
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

export const describeFailure = (f: SimFailure): string =>
  `seed ${f.seed}: ${isCheckerVerdict(f.invariant) ? f.invariant : `${f.invariant} violated`} at t=${f.at} ms\n  ${f.detail}\nlast steps:\n${f.trace}`

/** Whether two persistent states hold the same term, vote, snapshot and entries. */
const samePersistent = (a: PersistentState, b: PersistentState): boolean =>
  a.currentTerm === b.currentTerm &&
  sameOptionalId(a.votedFor, b.votedFor) &&
  a.log.snapshotIndex === b.log.snapshotIndex &&
  a.log.snapshotTerm === b.log.snapshotTerm &&
  a.log.entries.length === b.log.entries.length &&
  a.log.entries.every((entry, i) => entry.term === b.log.entries[i]!.term && JSON.stringify(entry.command) === JSON.stringify(b.log.entries[i]!.command)) &&
  encodeSnapshot(a.snapshot) === encodeSnapshot(b.snapshot)
