/**
 * JIT warm-up. A replica handles only a few hundred events in a run, too few for V8 to compile its
 * paths, and interpreted they cost a millisecond an event. Before going live, the replica runs a
 * short exchange between five replica runtimes held in memory, in virtual time: every datagram is
 * delivered at once, the earliest timer fires when none is in flight, and a client sends gets and
 * puts. Each runtime is the one that serves the network (`ReplicaRuntime`, which carries out the
 * effects itself: that is what is warmed up), its timers deadlines in virtual time as the core's
 * (effects/virtual-replica.ts), and every datagram
 * travels as bytes, so decoding, the reducer, the effects and encoding are all compiled, and compiled
 * for objects shaped as `JSON.parse` makes them (code compiled for objects built another way is
 * thrown away at the first real datagram: their hidden classes differ). It is generic: it knows the
 * protocol's datagrams, not Raft.
 */
import * as E from 'fp-ts/Either'
import { defaultSettings, withSettings, type Settings } from '../domain/config'
import { initialState } from '../domain/state'
import { BROADCAST, decodeMessage, type Message, type NodeId } from '../domain/wire'
import type { TimerName } from '../domain/effect'
import { noTimers, recipients, withDeadline, withoutDeadline, type TimerDeadlines } from '../effects/perform'
import { earliestTimerAmong } from '../effects/virtual-replica'
import { ReplicaRuntime, type ReplicaTimers } from './replica'
import { MemoryStorage } from './storage'

/**
 * How much warm-up a replica runs after its hello: enough events for V8 to compile the hot paths,
 * within a wall-time budget.
 */
export const REPLICA_WARMUP = { events: 4000, budgetMs: 400 } as const

/**
 * The replica's settings, but with no start-up grace: in virtual time nobody else is starting, and a
 * leader elected at once spends the exchange on puts rather than on requests held for it.
 */
const WARMUP_SETTINGS: Settings = withSettings(defaultSettings, { timing: { startupGracePerReplicaMs: 0 } })

const REPLICAS = ['0000', '0001', '0002', '0003', '0004'] as NodeId[]
const CLIENT = '0015' as NodeId

export interface WarmUpSummary {
  /** How many events (datagrams and timers) the runtimes handled. */
  readonly events: number
  /** The most entries any replica applied: the exchange reached elections, puts and commits. */
  readonly applied: number
}

/** A replica's timers in virtual time: when each one that is set fires. */
class VirtualTimers implements ReplicaTimers {
  deadlines: TimerDeadlines = noTimers

  constructor(private readonly now: () => number) {}

  set(timer: TimerName, afterMs: number): void {
    this.deadlines = withDeadline(this.deadlines, timer, this.now() + afterMs)
  }

  cancel(timer: TimerName): void {
    this.deadlines = withoutDeadline(this.deadlines, timer)
  }

  stop(): void {
    this.deadlines = noTimers
  }
}

/** One replica of the exchange. */
interface Member {
  readonly runtime: ReplicaRuntime
  readonly timers: VirtualTimers
}

/**
 * Runs about `events` events through an in-memory cluster, or fewer if `budgetMs` of wall time runs
 * out first (on a loaded machine a long warm-up would hold every replica's timers back until they
 * all fire at once).
 */
export const warmUp = (events: number, budgetMs: number, clock: () => number): WarmUpSummary => {
  const deadline = clock() + budgetMs
  const inFlight: Array<{ readonly to: NodeId; readonly bytes: Buffer }> = []
  let now = 0
  let ran = 0
  let requests = 0

  const route = (bytes: Buffer): void => {
    const decoded = decodeMessage(bytes.toString('utf8'))
    if (E.isLeft(decoded)) throw new Error(`warm-up: a replica sent what does not decode: ${decoded.left}`)
    for (const to of recipients(decoded.right, REPLICAS)) inFlight.push({ to, bytes })
  }
  const members = REPLICAS.map((id, i): Member => {
    const timers = new VirtualTimers(() => now)
    // Started as the executable starts a replica: from what its storage recovers (objects of the
    // same shapes as the live replica's).
    const storage = new MemoryStorage()
    const runtime = new ReplicaRuntime(initialState({ id, peers: REPLICAS, seed: i + 1, settings: WARMUP_SETTINGS }, storage.recover()), {
      now: () => now,
      send: route,
      trace: undefined,
      storage,
      timers: () => timers,
    })
    return { runtime, timers }
  })
  const memberOf = new Map(REPLICAS.map((id, i) => [id, members[i]!]))

  for (const member of members) member.runtime.start()
  while (ran < events && clock() < deadline) {
    const delivery = inFlight.shift()
    if (delivery !== undefined) {
      memberOf.get(delivery.to)!.runtime.onDatagram(delivery.bytes)
      ran++
      continue
    }
    // Nothing in flight: a client request every few milliseconds, or the earliest timer.
    const due = earliestTimerAmong(members, (member) => member.timers.deadlines)
    if (due !== undefined && due.at <= now + 5) {
      now = Math.max(now, due.at)
      due.item.timers.cancel(due.timer)
      due.item.runtime.onTimer(due.timer)
      ran++
      continue
    }
    now += 5
    requests++
    const key = `key${requests % 50}`.padEnd(32, '-')
    const MID = `warm${requests}`.padEnd(16, '-')
    const dst = REPLICAS[requests % REPLICAS.length]!
    // Fields in the order the simulator writes them, so that parsed requests have its objects' shape.
    const request: Message =
      requests % 3 === 0
        ? { src: CLIENT, dst, leader: BROADCAST, type: 'get', MID, key }
        : { src: CLIENT, dst, leader: BROADCAST, type: 'put', MID, key, value: MID }
    inFlight.push({ to: dst, bytes: Buffer.from(JSON.stringify(request), 'utf8') })
  }
  const applied = Math.max(...members.map((member) => member.runtime.current.lastApplied))
  for (const member of members) member.runtime.stop()
  return { events: ran, applied }
}
