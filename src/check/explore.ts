/**
 * Bounded exhaustive exploration over the reducer: a few replicas (3 by default), every
 * interleaving of deliveries, drops, duplicate deliveries, timer firings and a few scripted client
 * requests, breadth first up to a bound (depth, terms, log length, messages in flight, states).
 * States are deduplicated by a canonical key (world-key.ts: times taken relative to now; the replicas' random
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
import { BROADCAST, type Message, type NodeId } from '../domain/wire'
import { noTimers, recipients, withoutDeadline, type TimerDeadlines } from '../effects/perform'
import { stepVirtualReplica, type VirtualReplica } from '../effects/virtual-replica'
import { asClientReply, Clients, operatorRequest, type Route } from './virtual-clients'
import { clientIds, replicaIds } from '../domain/ids'
import { checkLinearizable, invariantOf } from './linearizability'
import { RaftInvariants } from './raft-invariants'
import type { Violation } from './violation'
import { realStep, type Stepper } from './stepper'
import { formatEffect, formatMessage } from './trace'
import { defaultBounds, type ExploreBounds, type ExploreOptions, type ExploreResult } from './explore-options'
import { extend, pathText, type PathStep, type World } from './explore-world'
import { WorldKeys } from './world-key'

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
  private readonly keys: WorldKeys

  constructor(private readonly options: ExploreOptions) {
    this.bounds = options.bounds
    this.ids = replicaIds(this.bounds.replicas)
    this.clientId = clientIds(this.bounds.replicas, 1)[0]!
    this.keys = new WorldKeys(options.settings)
  }

  run(): ExploreResult {
    const visited = new Set<string>()
    let frontier: World[] = []
    let depthReached = 0
    let complete = true
    try {
      const booted = this.initialWorld()
      const initial = this.options.start === 'leader' ? this.electLeader(booted) : booted
      visited.add(this.keys.of(initial))
      frontier.push(initial)
      while (frontier.length > 0 && depthReached < this.bounds.maxDepth) {
        const next: World[] = []
        for (const world of frontier) {
          for (const action of this.actions(world)) {
            const successor = this.apply(world, action)
            if (successor === undefined) continue
            const key = this.keys.of(successor)
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

