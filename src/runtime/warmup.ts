/**
 * JIT warm-up. A replica handles only a few hundred events in a run, too few for V8 to compile the
 * reducer's paths, and interpreted they cost a millisecond an event. Before going live, the replica
 * runs `step` through a short exchange between replicas held in memory, in virtual time: every
 * datagram is delivered at once, the earliest timer fires when none is in flight, and a client
 * sends gets and puts. It is generic: it knows the protocol's datagrams, not Raft.
 */
import type { Effect, TimerName } from '../effects/effect'
import { received, started, timerFired, type Event } from '../domain/events'
import { initialState, type ReplicaState } from '../domain/state'
import { step } from '../domain/step'
import { BROADCAST, type Message, type NodeId } from '../domain/wire'

const REPLICAS = ['0000', '0001', '0002', '0003', '0004'] as NodeId[]
const CLIENT = '0015' as NodeId

/**
 * Runs about `events` events through an in-memory cluster, or fewer if `budgetMs` of wall time runs
 * out first (on a loaded machine a long warm-up would hold every replica's timers back until they
 * all fire at once); returns how many ran.
 */
export const warmUp = (events: number, budgetMs: number, clock: () => number): number => {
  const deadline = clock() + budgetMs
  const states = new Map<NodeId, ReplicaState>(
    REPLICAS.map((id, i) => [id, initialState({ id, peers: REPLICAS, seed: i + 1 })]),
  )
  const timers: Array<{ replica: NodeId; timer: TimerName; at: number }> = []
  const inFlight: Message[] = []
  let now = 0
  let ran = 0
  let requests = 0

  const perform = (replica: NodeId, effects: readonly Effect[]): void => {
    for (const effect of effects) {
      if (effect.kind === 'send' && effect.message.type !== 'hello') inFlight.push(effect.message)
      if (effect.kind === 'setTimer' || effect.kind === 'cancelTimer') {
        const at = timers.findIndex((t) => t.replica === replica && t.timer === effect.timer)
        if (at >= 0) timers.splice(at, 1)
        if (effect.kind === 'setTimer') timers.push({ replica, timer: effect.timer, at: now + effect.afterMs })
      }
    }
  }
  const run = (replica: NodeId, event: Event): void => {
    const [next, effects] = step(states.get(replica)!, event)
    states.set(replica, next)
    perform(replica, effects)
    ran++
  }

  for (const id of REPLICAS) run(id, started(now))
  while (ran < events && clock() < deadline) {
    const message = inFlight.shift()
    if (message !== undefined) {
      const targets = message.dst === BROADCAST ? REPLICAS.filter((id) => id !== message.src) : [message.dst]
      for (const target of targets) if (states.has(target)) run(target, received(now, message))
      continue
    }
    // Nothing in flight: a client request every few milliseconds, or the earliest timer.
    timers.sort((a, b) => a.at - b.at)
    const next = timers[0]
    if (next !== undefined && next.at <= now + 5) {
      timers.shift()
      now = Math.max(now, next.at)
      run(next.replica, timerFired(now, next.timer))
      continue
    }
    now += 5
    requests++
    const key = `key${requests % 50}`.padEnd(32, '-')
    const MID = `warm${requests}`.padEnd(16, '-')
    const request: Message =
      requests % 3 === 0
        ? { src: CLIENT, dst: REPLICAS[requests % REPLICAS.length]!, leader: BROADCAST, type: 'get', MID, key }
        : { src: CLIENT, dst: REPLICAS[requests % REPLICAS.length]!, leader: BROADCAST, type: 'put', MID, key, value: MID }
    inFlight.push(request)
  }
  return ran
}
