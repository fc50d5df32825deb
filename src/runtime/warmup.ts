/**
 * JIT warm-up. A replica handles only a few hundred events in a run, too few for V8 to compile the
 * reducer's paths, and interpreted they cost a millisecond an event. Before going live, the replica
 * runs `step` through a short exchange between replicas held in memory, in virtual time: every
 * datagram is delivered at once, the earliest timer fires when none is in flight, and a client
 * sends gets and puts. It is generic: it knows the protocol's datagrams, not Raft.
 */
import { earliestTimer, recipients, withTimerEffects, noTimers, type TimerDeadlines } from '../effects/perform'
import { received, started, timerFired, type Event } from '../domain/events'
import { initialState, type ReplicaState } from '../domain/state'
import { step } from '../domain/step'
import { BROADCAST, type Message, type NodeId } from '../domain/wire'

const REPLICAS = ['0000', '0001', '0002', '0003', '0004'] as NodeId[]
const CLIENT = '0015' as NodeId

export interface WarmUpSummary {
  /** How many events ran through `step`. */
  readonly events: number
  /** The most entries any replica applied: the exchange reached elections, puts and commits. */
  readonly applied: number
}

/**
 * Runs about `events` events through an in-memory cluster, or fewer if `budgetMs` of wall time runs
 * out first (on a loaded machine a long warm-up would hold every replica's timers back until they
 * all fire at once).
 */
export const warmUp = (events: number, budgetMs: number, clock: () => number): WarmUpSummary => {
  const deadline = clock() + budgetMs
  const states = new Map<NodeId, ReplicaState>(
    REPLICAS.map((id, i) => [id, initialState({ id, peers: REPLICAS, seed: i + 1 })]),
  )
  const timers = new Map<NodeId, TimerDeadlines>(REPLICAS.map((id) => [id, noTimers]))
  const inFlight: Array<{ readonly to: NodeId; readonly message: Message }> = []
  let now = 0
  let ran = 0
  let requests = 0

  const run = (replica: NodeId, event: Event): void => {
    const [next, effects] = step(states.get(replica)!, event)
    states.set(replica, next)
    timers.set(replica, withTimerEffects(timers.get(replica)!, effects, now))
    for (const effect of effects) {
      if (effect.kind !== 'send') continue
      for (const to of recipients(effect.message, REPLICAS)) inFlight.push({ to, message: effect.message })
    }
    ran++
  }

  for (const id of REPLICAS) run(id, started(now))
  while (ran < events && clock() < deadline) {
    const delivery = inFlight.shift()
    if (delivery !== undefined) {
      run(delivery.to, received(now, delivery.message))
      continue
    }
    // Nothing in flight: a client request every few milliseconds, or the earliest timer.
    const due = earliestAcross(timers)
    if (due !== undefined && due.at <= now + 5) {
      now = Math.max(now, due.at)
      timers.set(due.replica, withTimerEffects(timers.get(due.replica)!, [{ kind: 'cancelTimer', timer: due.timer }], now))
      run(due.replica, timerFired(now, due.timer))
      continue
    }
    now += 5
    requests++
    const key = `key${requests % 50}`.padEnd(32, '-')
    const MID = `warm${requests}`.padEnd(16, '-')
    const dst = REPLICAS[requests % REPLICAS.length]!
    const request: Message =
      requests % 3 === 0
        ? { src: CLIENT, dst, leader: BROADCAST, type: 'get', MID, key }
        : { src: CLIENT, dst, leader: BROADCAST, type: 'put', MID, key, value: MID }
    inFlight.push({ to: dst, message: request })
  }
  return { events: ran, applied: Math.max(...[...states.values()].map((s) => s.lastApplied)) }
}

const earliestAcross = (timers: ReadonlyMap<NodeId, TimerDeadlines>) => {
  let earliest: { replica: NodeId; timer: Parameters<typeof timerFired>[1]; at: number } | undefined
  for (const [replica, deadlines] of timers) {
    const due = earliestTimer(deadlines)
    if (due !== undefined && (earliest === undefined || due.at < earliest.at)) earliest = { replica, ...due }
  }
  return earliest
}
