/**
 * Bounded exhaustive exploration over the reducer: a few replicas (3 by default), every
 * interleaving of deliveries, drops, duplicate deliveries, timer firings and a few scripted client
 * requests, breadth first up to a bound (depth, terms, log length, messages in flight, states).
 * States are deduplicated by a canonical key (times taken relative to now; the replicas' random
 * generators and delivery counters left out; the invariants' remembered history included, so
 * that a world is never merged with one whose later checks would be weaker).
 *
 * Reductions considered for depth, and why only the warm start (`start: 'leader'`) is here:
 * - Firing timers only when no message is in flight is not sound: a message that outlives an
 *   election timeout (a stale AppendEntries delivered after a new leader's, a vote reply after
 *   the candidate's next campaign) is exactly what Figure 8 and most Raft bugs need.
 * - Partial-order reduction of deliveries to different replicas: deliveries at one instant do
 *   commute on the replicas and the network, but not on the client (two replies in either order
 *   are two histories) nor on the invariants (a check at the intermediate world, e.g. a commit
 *   compared with a leader that the other delivery deposes, is only made there), and a persistent
 *   set must also account for messages that other replicas send to the same receiver later; a
 *   sound version needs those conditions (and a cycle proviso), so it is not done.
 * - Leaving drops out and letting undelivered messages stay in flight is sound (a message never
 *   delivered is a dropped one, to every replica) when the in-flight bound is lifted, but measured
 *   it saves about a quarter of the states at depth 7 and costs more per state: `--no-drops
 *   --in-flight 1000` does it. The Raft invariants and the client checks run in
 * every state reached; linearizability runs on every state's client history.
 *
 * Time: a delivery happens at the current instant; a timer firing moves the clock to its deadline
 * (or leaves it, if that is past), so that elections and leases behave as they would.
 */
import type { Effect, TimerName } from '../domain/effect'
import { received, started, timerFired, type Event } from '../domain/events'
import { defaultSettings, type Settings } from '../domain/config'
import { initialState, type PersistentState, type ReplicaState } from '../domain/state'
import { lastIndex } from '../domain/log'
import { BROADCAST, type AdminAction, type Message, type NodeId } from '../domain/wire'
import { noTimers, recipients, TIMER_NAMES, withoutDeadline, type TimerDeadlines } from '../effects/perform'
import { stepVirtualReplica, type VirtualReplica } from '../effects/virtual-replica'
import { asClientReply, Clients, operatorRequest, type Route } from './virtual-clients'
import { clientIds, replicaIds } from '../domain/ids'
import { checkLinearizable, invariantOf } from './linearizability'
import { RaftInvariants, type Violation } from './raft-invariants'
import { realStep, type Stepper } from './stepper'
import { IGNORED_FIELDS, TIME_FIELDS, TIME_LIST_FIELDS } from './state-key'
import { formatEffect, formatMessage } from './trace'

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

interface World {
  readonly now: number
  readonly replicas: readonly ReplicaState[]
  readonly timers: readonly TimerDeadlines[]
  /** Messages between replicas, and client requests, in flight. */
  readonly network: readonly Message[]
  readonly nextRequest: number
  readonly timerFirings: number
  readonly clients: Clients
  readonly invariants: RaftInvariants
  readonly depth: number
  readonly path: PathStep | undefined
}

/**
 * The path to a world, newest step first, sharing its prefix with its siblings' paths. Labels are
 * formatted only when a counterexample is printed (formatting every transition cost more than
 * stepping the reducer).
 */
interface PathStep {
  readonly previous: PathStep | undefined
  readonly label: () => string
}

const extend = (path: PathStep | undefined, label: () => string): PathStep => ({ previous: path, label })

const pathText = (path: PathStep | undefined): string[] => {
  const out: string[] = []
  for (let p = path; p !== undefined; p = p.previous) out.push(p.label())
  return out.reverse()
}

type Action =
  | { readonly kind: 'deliver'; readonly index: number; readonly keepCopy: boolean }
  | { readonly kind: 'drop'; readonly index: number }
  | { readonly kind: 'timer'; readonly replica: number; readonly timer: TimerName }
  | { readonly kind: 'request'; readonly replica: number }

class Counterexample {
  constructor(
    readonly violation: Violation,
    readonly path: PathStep | undefined,
  ) {}
}


export class Explorer {
  private readonly ids: NodeId[]
  private readonly clientId: NodeId
  private readonly bounds: ExploreBounds
  private transitions = 0
  private clientReplies = 0
  private elections = 0
  private configurationChanges = 0
  /** Canonical forms of replica states, messages, their parts and the checks' history, numbered. */
  private readonly interned = new Map<string, number>()
  /**
   * Each object's form numbers: `free` when its form holds no time, else one per clock reading
   * (one WeakMap entry per object: a WeakMap's entries cost the garbage collector).
   */
  private readonly forms = new WeakMap<object, { free: number } | { free: undefined; readonly byNow: Map<number, number> }>()
  /** Whether the text being built made a time relative to now. */
  private sawTime = false
  private replacerAt: { readonly now: number; readonly replacer: (key: string, value: unknown) => unknown } | undefined

  constructor(private readonly options: ExploreOptions) {
    this.bounds = options.bounds
    this.ids = replicaIds(this.bounds.replicas)
    this.clientId = clientIds(this.bounds.replicas, 1)[0]!
  }

  run(): ExploreResult {
    const visited = new Set<string>()
    let frontier: World[] = []
    let depthReached = 0
    let complete = true
    try {
      const booted = this.initialWorld()
      const initial = this.options.start === 'leader' ? this.electLeader(booted) : booted
      visited.add(this.canonical(initial))
      frontier.push(initial)
      while (frontier.length > 0 && depthReached < this.bounds.maxDepth) {
        const next: World[] = []
        for (const world of frontier) {
          for (const action of this.actions(world)) {
            const successor = this.apply(world, action)
            if (successor === undefined) continue
            const key = this.canonical(successor)
            if (visited.has(key)) continue
            visited.add(key)
            this.checkClients(successor)
            next.push(successor)
            if (visited.size >= this.bounds.maxStates) {
              complete = false
              break
            }
          }
          if (!complete) break
        }
        if (next.length === 0) break
        depthReached++
        frontier = next
        if (!complete) break
      }
    } catch (e) {
      if (!(e instanceof Counterexample)) throw e
      return this.result(visited.size, depthReached, false, { violation: e.violation, path: pathText(e.path) })
    }
    return this.result(visited.size, depthReached, complete, undefined)
  }

  private result(states: number, depth: number, complete: boolean, counterexample: ExploreResult['counterexample']): ExploreResult {
    return {
      statesExplored: states,
      transitions: this.transitions,
      depthReached: depth,
      clientReplies: this.clientReplies,
      elections: this.elections,
      configurationChanges: this.configurationChanges,
      complete,
      counterexample,
    }
  }

  // ---- the initial world and the actions ---------------------------------------------------

  private initialWorld(): World {
    let world: World = {
      now: 0,
      replicas: [],
      timers: [],
      network: [],
      nextRequest: 0,
      timerFirings: 0,
      clients: new Clients([this.clientId]),
      invariants: new RaftInvariants(),
      depth: 0,
      path: undefined,
    }
    const replicas: ReplicaState[] = []
    const timers: TimerDeadlines[] = []
    for (let i = 0; i < this.ids.length; i++) {
      const config = { id: this.ids[i]!, peers: this.ids, seed: 1000 + i, settings: this.options.settings }
      replicas.push(initialState(config, this.options.initialPersistent[i]))
      timers.push(noTimers)
    }
    world = { ...world, replicas, timers }
    for (let i = 0; i < this.ids.length; i++) world = this.stepIn(world, i, started(0), () => `${this.ids[i]} started`, true)
    return { ...world, path: undefined }
  }

  /**
   * The warm start: a depth budget spent on the first election (about twelve steps with three
   * replicas) is not spent on replication, commitment, client requests and the next leader change.
   *
   * Soundness: the prefix is made of the model's own actions (a timer firing, then deliveries),
   * each one a step of the reducer with every invariant and client check run on it, so every
   * world explored from the warm start is reachable from the boot world, and a counterexample
   * from it is a real one (its path includes the prefix). It is a slice, not a reduction of the
   * whole space: what it leaves out are the interleavings of the first election, which the
   * boot-started search covers. Within the slice nothing is pruned, and the bounds on depth and
   * timer firings count from the warm start.
   */
  private electLeader(booted: World): World {
    const timers = booted.timers.map((t, i) => (i === 0 ? withoutDeadline(t, 'election') : t))
    const deadline = booted.timers[0]!.election!
    let world = this.stepIn({ ...booted, now: deadline, timers }, 0, timerFired(deadline, 'election'), () => `${this.ids[0]} timer election at ${deadline} (warm start)`)
    for (let guard = 0; world.network.length > 0; guard++) {
      if (guard > 1_000) throw new Error('warm start: the first election did not settle')
      const message = world.network[0]!
      world = this.stepIn(
        { ...world, network: world.network.slice(1) },
        this.ids.indexOf(message.dst),
        received(world.now, message),
        () => `deliver ${formatMessage(message)} (warm start)`,
      )
    }
    const leader = world.replicas[0]!
    if (leader.role !== 'leader' || world.replicas.some((r, i) => i !== 0 && r.role !== 'follower')) {
      throw new Error(`warm start: expected ${this.ids[0]} to lead and the others to follow, got ${world.replicas.map((r) => r.role).join(', ')}`)
    }
    return { ...world, depth: 0, timerFirings: 0 }
  }

  private actions(world: World): Action[] {
    const actions: Action[] = []
    const seen = new Set<string>()
    world.network.forEach((message, index) => {
      const key = JSON.stringify(message)
      if (seen.has(key)) return
      seen.add(key)
      const isRaft = message.type !== 'get' && message.type !== 'put'
      actions.push({ kind: 'deliver', index, keepCopy: false })
      if (isRaft && this.bounds.duplicates) actions.push({ kind: 'deliver', index, keepCopy: true })
      if (isRaft && this.bounds.drops) actions.push({ kind: 'drop', index })
    })
    if (world.timerFirings < this.bounds.maxTimerFirings) world.timers.forEach((t, replica) => {
      if (this.bounds.timersOf !== 'all' && !this.bounds.timersOf.includes(replica)) return
      for (const timer of this.bounds.timers) if (t[timer] !== undefined) actions.push({ kind: 'timer', replica, timer })
    })
    if (world.nextRequest < this.bounds.requests.length) {
      for (let replica = 0; replica < this.ids.length; replica++) actions.push({ kind: 'request', replica })
    }
    return actions
  }

  /** The successor world, or undefined when it leaves the bounds. */
  private apply(world: World, action: Action): World | undefined {
    this.transitions++
    let next: World
    switch (action.kind) {
      case 'drop': {
        const message = world.network[action.index]!
        const network = world.network.filter((_, i) => i !== action.index)
        next = { ...world, network, depth: world.depth + 1, path: extend(world.path, () => `drop ${formatMessage(message)}`) }
        break
      }
      case 'deliver': {
        const message = world.network[action.index]!
        const network = action.keepCopy ? world.network : world.network.filter((_, i) => i !== action.index)
        const to = this.ids.indexOf(message.dst)
        const label = () => `${action.keepCopy ? 'deliver a copy of' : 'deliver'} ${formatMessage(message)}`
        next = this.stepIn({ ...world, network }, to, received(world.now, message), label)
        break
      }
      case 'timer': {
        const deadline = world.timers[action.replica]![action.timer]!
        const now = Math.max(world.now, deadline)
        const timers = world.timers.map((t, i) => (i === action.replica ? withoutDeadline(t, action.timer) : t))
        next = this.stepIn({ ...world, now, timers, timerFirings: world.timerFirings + 1 }, action.replica, timerFired(now, action.timer), () => `${this.ids[action.replica]} timer ${action.timer} at ${now}`)
        break
      }
      case 'request': {
        const spec = this.bounds.requests[world.nextRequest]!
        const dst = this.ids[action.replica]!
        if (spec.kind === 'admin') {
          const request = operatorRequest(dst, `op-${world.nextRequest}`, spec.action, spec.member)
          next = {
            ...world,
            nextRequest: world.nextRequest + 1,
            network: [...world.network, request],
            depth: world.depth + 1,
            path: extend(world.path, () => `operator sends ${formatMessage(request)}`),
          }
          break
        }
        const clients = world.clients.clone()
        const request = clients.invoke(world.now, this.clientId, spec.kind, spec.key, spec.value, () => dst)
        next = {
          ...world,
          clients,
          nextRequest: world.nextRequest + 1,
          network: [...world.network, request],
          depth: world.depth + 1,
          path: extend(world.path, () => `client sends ${formatMessage(request)}`),
        }
        break
      }
    }
    return this.withinBounds(next) ? next : undefined
  }

  private withinBounds(world: World): boolean {
    const b = this.bounds
    if (world.network.length > b.maxInFlight) return false
    return world.replicas.every((r) => r.persistent.currentTerm <= b.maxTerm && lastIndex(r.persistent.log) <= b.maxLogLength)
  }

  /**
   * One replica steps (the virtual-time core's step, on a copy of its part of the world: a world is
   * never changed); its effects go into the world; every invariant is checked.
   */
  private stepIn(world: World, index: number, event: Event, label: () => string, boot = false): World {
    const replica: VirtualReplica = { id: this.ids[index]!, state: world.replicas[index]!, stored: undefined, timers: world.timers[index]! }
    const sent: Message[] = []
    const { before, after, effects } = stepVirtualReplica(replica, this.options.step, event, { send: (m) => sent.push(m) })
    if (after.role === 'leader' && before.role !== 'leader') this.elections++
    if (after.configuration !== before.configuration) this.configurationChanges++
    const replicas = world.replicas.map((r, i) => (i === index ? after : r))
    const path = extend(world.path, () => `${label()}${describeEffects(effects)}`)
    const invariants = world.invariants.clone()
    const violation = invariants.observe(boot ? undefined : before, after)
    if (violation !== undefined) throw new Counterexample(violation, path)
    let clients = world.clients
    const network = [...world.network]
    const timers = world.timers.map((t, i) => (i === index ? replica.timers : t))
    for (const m of sent) {
      if (m.type === 'hello') continue
      const targets = recipients(m, this.ids)
      if (targets.length > 0 || m.dst === BROADCAST) {
        // A broadcast travels as one copy per replica, each addressed to it.
        for (const id of targets) if (!this.isCut(index, id)) network.push(m.dst === id ? m : ({ ...m, dst: id } as Message))
      } else {
        const reply = asClientReply(m)
        if (reply === 'operator') continue
        if (typeof reply === 'string') throw new Counterexample({ invariant: 'Well-formed datagrams', detail: `${m.src} sent ${reply}` }, path)
        if (clients === world.clients) clients = clients.clone()
        const route: Route = (remembered) => remembered ?? this.ids[0]!
        this.clientReplies++
        const outcome = clients.reply(world.now, reply, route)
        if (outcome.violation !== undefined) throw new Counterexample(outcome.violation, path)
        if (outcome.retry !== undefined) network.push(outcome.retry)
      }
    }
    return { ...world, replicas, timers, network, clients, invariants, depth: world.depth + 1, path }
  }

  private isCut(from: number, to: NodeId): boolean {
    const j = this.ids.indexOf(to)
    return this.bounds.cut.some(([a, b]) => (a === from && b === j) || (a === j && b === from))
  }

  private checkClients(world: World): void {
    const result = checkLinearizable(world.clients.history())
    if (!result.ok) throw new Counterexample({ invariant: invariantOf(result.verdict), detail: `key ${result.key}: ${result.reason}` }, world.path)
  }

  // ---- the canonical hash --------------------------------------------------------------------

  private canonical(world: World): string {
    const now = world.now
    // Each part's canonical text stands in the key as its number in `interned` (one text, one
    // number), so the key is exactly as discriminating as the texts themselves, and short. The
    // sections are separated by '|' and hold numbers, '-' and commas only, but for the last, JSON.
    let key = ''
    for (const r of world.replicas) key += `${this.textId(r, now)},`
    const network = world.network.map((m) => this.textId(m, now)).sort((a, b) => a - b)
    key += `|${network.join(',')}|${this.intern(world.invariants.digest())}|`
    for (const t of world.timers) {
      for (const timer of TIMER_NAMES) {
        const at = t[timer]
        key += `${at === undefined ? '-' : at - now},`
      }
    }
    key += `|${world.nextRequest},${world.timerFirings}|`
    for (const op of world.clients.history()) key += `${JSON.stringify([op.kind, op.value, op.completedAt === undefined])},`
    return key
  }

  private intern(text: string): number {
    let id = this.interned.get(text)
    if (id === undefined) {
      id = this.interned.size
      this.interned.set(text, id)
    }
    return id
  }

  /** The number of a replica state's or a message's canonical form at `now`. */
  private textId(value: object, now: number): number {
    return this.formId(value, now)
  }

  /**
   * The number of an immutable object's canonical form at `now`. The form stands for
   * `JSON.stringify(value, replacer)`, where the replacer leaves out IGNORED_FIELDS and makes
   * TIME_FIELDS and TIME_LIST_FIELDS relative to now (./state-key says which field is which), and two objects get the same number exactly when those texts
   * are equal: an array (or an object with toJSON) is that text; a plain object is that text
   * with each field's value written as `#` and the number of its own form. A field's value is
   * shared by many states (a step changes few fields of one replica), so its form is computed
   * once when it holds no time (the log, the store), once per clock reading when it does.
   * Leaves `sawTime` telling whether the form depends on now.
   */
  private formId(value: object, now: number): number {
    const known = this.forms.get(value)
    if (known !== undefined) {
      if (known.free !== undefined) {
        this.sawTime = false
        return known.free
      }
      const cached = known.byNow.get(now)
      if (cached !== undefined) {
        this.sawTime = true
        return cached
      }
    }
    this.sawTime = false
    let form: string
    if (Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      form = JSON.stringify(value, this.replacer(now))
    } else {
      const replacer = this.replacer(now)
      let timed = false
      form = '{'
      for (const key of Object.keys(value)) {
        const field = replacer(key, (value as Record<string, unknown>)[key])
        timed ||= this.sawTime
        let fieldForm: string | undefined
        if (typeof field === 'object' && field !== null) {
          fieldForm = `#${this.formId(field, now)}`
          timed ||= this.sawTime
        } else {
          fieldForm = primitiveJson(field)
        }
        if (fieldForm === undefined) continue
        form += `${form.length === 1 ? '' : ','}${quotedKey(key)}:${fieldForm}`
      }
      form += '}'
      this.sawTime = timed
    }
    const id = this.intern(form)
    if (!this.sawTime) this.forms.set(value, { free: id })
    else if (known !== undefined && known.free === undefined) known.byNow.set(now, id)
    else this.forms.set(value, { free: undefined, byNow: new Map([[now, id]]) })
    return id
  }

  private replacer(now: number): (key: string, value: unknown) => unknown {
    if (this.replacerAt?.now === now) return this.replacerAt.replacer
    const horizon = this.options.settings.timing.electionTimeoutMaxMs + this.options.settings.timing.heartbeatMs
    const replacer = (key: string, value: unknown): unknown => {
      if (IGNORED_FIELDS.has(key)) return undefined
      const relative = (time: number): number | 'old' =>
        time === Number.NEGATIVE_INFINITY || now - time > horizon ? 'old' : time - now
      if (TIME_FIELDS.has(key) && typeof value === 'number') {
        this.sawTime = true
        return relative(value)
      }
      if (TIME_LIST_FIELDS.has(key) && Array.isArray(value)) {
        this.sawTime = true
        return value.map((time: number) => relative(time))
      }
      return value
    }
    this.replacerAt = { now, replacer }
    return replacer
  }
}

/** `JSON.stringify(value)` of a value that is not an object (undefined: left out). */
const primitiveJson = (value: unknown): string | undefined => {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      return value === null ? 'null' : (JSON.stringify(value) as string | undefined)
  }
}

const quotedKeys = new Map<string, string>()

/** `JSON.stringify(key)`, remembered (objects of one type share their few keys). */
const quotedKey = (key: string): string => {
  let quoted = quotedKeys.get(key)
  if (quoted === undefined) {
    quoted = JSON.stringify(key)
    quotedKeys.set(key, quoted)
  }
  return quoted
}

const describeEffects = (effects: readonly Effect[]): string => {
  const shown = effects.filter((e) => e.kind !== 'log')
  return shown.length === 0 ? '' : `\n      -> ${shown.map(formatEffect).join('\n      -> ')}`
}

export const explore = (
  options: {
    step?: Stepper
    settings?: Settings
    bounds?: Partial<ExploreBounds>
    initialPersistent?: readonly (PersistentState | undefined)[]
    start?: ExploreOptions['start']
  } = {},
): ExploreResult =>
  new Explorer({
    start: options.start ?? 'boot',
    initialPersistent: options.initialPersistent ?? [],
    step: options.step ?? realStep,
    settings: options.settings ?? defaultSettings,
    bounds: { ...defaultBounds, ...options.bounds },
  }).run()

export const describeCounterexample = (c: NonNullable<ExploreResult['counterexample']>): string =>
  `${c.violation.invariant} violated: ${c.violation.detail}\npath (${c.path.length} steps):\n${c.path.map((p, i) => `${String(i + 1).padStart(3)}. ${p}`).join('\n')}`

