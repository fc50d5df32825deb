/**
 * The simulator's whole decision logic, without sockets or processes: feed it datagrams, due
 * requests and due events; it answers with effects for the socket layer to carry out.
 */
import type { Operation } from '../history/linearizability'
import { BROADCAST, classifyDatagram, encode, Message } from './datagram'
import { ClientPool, ClientRequest, ReplyOutcome, type StaleGet } from './client-pool'
import type { Workload } from '../check/workload'
import { clientIds, replicaIds } from '../domain/ids'
import { FanOut, Network } from './network'
import { RandomStreams } from './prng'
import { EventType, Scenario } from './scenario'

export type Effect =
  /** A hello: reply to the address it came from, from now on. */
  | { type: 'hello'; replica: string }
  /** Send these bytes to the replica's recorded address, from its socket. */
  | { type: 'send'; to: string; bytes: Buffer }
  /** Kill event: close the replica's socket and kill its process group (SIGKILL, or SIGTERM with `graceful_stop`). */
  | { type: 'kill'; replica: string }
  /** Restart event (kvsim's own): a new socket, and the killed replica's program started again on its data. */
  | { type: 'restart'; replica: string }
  /** The replica sent an empty or non-UTF-8 datagram: close it (it counts as died). */
  | { type: 'close'; replica: string }
  /** End the run now (packet storm, or no replica alive). */
  | { type: 'stop'; reason: string }

interface ReplicaStatus {
  helloed: boolean
  socketOpen: boolean
  living: boolean
  /** Restarted and not yet said hello: what is routed to it is lost, as to a killed replica. */
  restarting: boolean
}

export interface FiredEvent {
  type: EventType
  at: number
  detail: string
}

/**
 * Told what the simulation sees and does, for a timeline of the run (src/timeline). It only
 * watches: nothing it does changes the run or its score. Times are the simulation's, in seconds.
 */
export interface SimulationObserver {
  hello(at: number, replica: string): void
  /** A killed replica was started again (kvsim's `restart` event). */
  restarted(at: number, replica: string): void
  /** A replica-to-replica datagram (or broadcast) and what became of its copies. */
  datagram(at: number, message: Message, fanOut: FanOut): void
  /** The first attempt of a new client request. */
  request(at: number, operation: Operation, request: ClientRequest): void
  /** A client resends after a redirect or fail reply to `previousMid`. */
  retry(at: number, previousMid: string, request: ClientRequest): void
  /** A reply from a replica reached a client, and what the client made of it. */
  reply(at: number, client: string, message: Message, outcome: ReplyOutcome): void
  /** A scenario event fired; `majority` is the majority side of the partition in force after it. */
  event(event: FiredEvent, majority: readonly string[] | null): void
  killed(at: number, replica: string): void
  died(at: number, replica: string, reason: string): void
}

export class Simulation {
  readonly replicas: readonly string[]
  readonly clients: ClientPool
  readonly network: Network
  private readonly status = new Map<string, ReplicaStatus>()
  readonly died: { replica: string; at: number; reason: string }[] = []
  readonly killed: string[] = []
  /** Killed and not restarted since, the longest dead first. */
  private readonly down: string[] = []
  lostBeforeRestartHello = 0
  readonly incorrect: { at: number; reason: string; staleGet?: StaleGet }[] = []
  readonly firedEvents: FiredEvent[] = []
  readonly leaderHistory: { at: number; leader: string }[] = []
  lostToClosedSockets = 0
  blocked = 0
  stopReason: string | undefined

  constructor(
    readonly scenario: Scenario,
    private readonly random: RandomStreams,
    private readonly observer?: SimulationObserver,
    workload: Workload = 'own',
  ) {
    this.replicas = replicaIds(scenario.replicas)
    for (const id of this.replicas) this.status.set(id, { helloed: false, socketOpen: true, living: true, restarting: false })
    this.network = new Network(this.replicas, scenario.drops, random.network)
    this.clients = new ClientPool(clientIds(scenario.replicas), scenario.mix, random.workload, {
      living: () => this.living(),
    }, workload)
  }

  living(): string[] {
    return this.replicas.filter((id) => this.status.get(id)!.living)
  }

  get leader(): string {
    return this.network.leader
  }

  get stopped(): boolean {
    return this.stopReason !== undefined
  }

  /** A datagram read from `socketOf`'s socket. */
  onDatagram(socketOf: string, bytes: Uint8Array, now: number): Effect[] {
    if (this.stopped) return []
    const classified = classifyDatagram(bytes)
    switch (classified.kind) {
      case 'closed':
        return this.close(socketOf, now, classified.reason)
      case 'incorrect':
        this.markIncorrect(now, `from socket ${socketOf}: ${classified.reason}`)
        return []
      case 'hello': {
        const status = this.status.get(socketOf)!
        status.helloed = true
        if (status.restarting) {
          // Back: clients and kill events may choose it again.
          status.restarting = false
          status.living = true
        }
        this.observer?.hello(now, socketOf)
        return [{ type: 'hello', replica: socketOf }]
      }
      case 'message':
        break
    }
    const { src, dst, leader } = classified.message
    if (leader !== BROADCAST && !this.replicas.includes(leader)) {
      // The course's simulator would crash later on this; here it is simply incorrect.
      this.markIncorrect(now, `leader field ${leader} names no replica (from ${src})`)
      return []
    }
    const before = this.network.leader
    this.network.observeLeader(src, leader)
    if (this.network.leader !== before) this.leaderHistory.push({ at: now, leader: this.network.leader })

    if (dst === BROADCAST || this.replicas.includes(dst)) {
      const fanOut = this.network.fanOut(src, dst)
      this.observer?.datagram(now, classified.message, fanOut)
      const effects: Effect[] = []
      const payload = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes)
      for (const target of fanOut.delivered) effects.push(...this.deliver(target, payload, now))
      if (this.network.totalMsgs >= this.scenario.maxPackets) effects.push(this.stop(`packet storm: total_msgs reached ${this.network.totalMsgs}`))
      return effects
    }
    if (this.clients.isClient(dst)) {
      const outcome = this.clients.handleReply(dst, classified.message, now)
      this.observer?.reply(now, dst, classified.message, outcome)
      if (outcome.kind === 'incorrect') this.markIncorrect(now, outcome.reason, outcome.staleGet)
      if (outcome.kind === 'retry' && outcome.request) {
        this.observer?.retry(now, String(classified.message['MID']), outcome.request)
        return this.deliver(outcome.request.to, encode(outcome.request.message), now)
      }
      return []
    }
    this.markIncorrect(now, `unknown destination ${dst} (from ${src}, type ${String(classified.message.type)})`)
    return []
  }

  /** The next scheduled client request is due. */
  onRequestDue(now: number): Effect[] {
    if (this.stopped) return []
    const request = this.clients.newRequest(now)
    if (!request) return [this.stop('no replica alive')]
    this.observer?.request(now, this.clients.history[this.clients.history.length - 1]!, request)
    return this.deliver(request.to, encode(request.message), now)
  }

  onEvent(type: EventType, now: number): Effect[] {
    if (this.stopped) return []
    const faults = this.random.faults
    const leader = this.network.leader
    const effects: Effect[] = []
    let detail = ''
    switch (type) {
      case 'kill_leader': {
        if (this.living().includes(leader)) {
          effects.push(this.kill(leader, now))
          detail = `killed ${leader}`
        } else detail = `leader ${leader} is not a living replica: nobody killed`
        this.forgetLeader(now)
        break
      }
      case 'kill_non_leader': {
        const living = this.living()
        const candidates = living.filter((id) => id !== leader)
        if (living.length > 1 && candidates.length > 0) {
          const victim = faults.pick(candidates)
          effects.push(this.kill(victim, now))
          detail = `killed ${victim}`
        } else detail = 'only one replica lives: nobody killed'
        break
      }
      case 'part_easy':
      case 'part_hard': {
        const easy = type === 'part_easy' && leader !== BROADCAST
        const majority = this.network.drawMajority(faults, easy ? leader : undefined)
        this.network.setPartition(majority)
        if (!easy) this.forgetLeader(now)
        detail = `majority ${[...majority].sort().join(',')}${type === 'part_easy' && !easy ? ' (leader unknown: acted as part_hard)' : ''}`
        break
      }
      case 'part_end':
        this.network.heal()
        detail = 'healed'
        break
      case 'restart': {
        const replica = this.down.shift()
        if (replica === undefined) detail = 'no killed replica to restart'
        else {
          this.status.set(replica, { helloed: false, socketOpen: true, living: false, restarting: true })
          this.observer?.restarted(now, replica)
          effects.push({ type: 'restart', replica })
          detail = `restarted ${replica}`
        }
        break
      }
    }
    this.firedEvents.push({ type, at: now, detail })
    const majority = this.network.majoritySide()
    this.observer?.event(this.firedEvents[this.firedEvents.length - 1]!, majority === null ? null : [...majority])
    if (this.living().length === 0) effects.push(this.stop('no replica alive'))
    return effects
  }

  /** Whether `replica` was killed and not restarted since. */
  isDown(replica: string): boolean {
    return this.down.includes(replica)
  }

  /** The socket layer could not hand a datagram to the kernel in time. */
  noteBlocked(): void {
    this.blocked++
  }

  private forgetLeader(now: number): void {
    this.network.leader = BROADCAST
    this.leaderHistory.push({ at: now, leader: BROADCAST })
    this.clients.forgetLeaders()
  }

  private deliver(to: string, bytes: Buffer, now: number): Effect[] {
    const status = this.status.get(to)!
    if (!status.socketOpen) {
      this.lostToClosedSockets++
      return []
    }
    if (!status.helloed && status.restarting) {
      // kvsim's restart: the peers do not know it is back, and nothing said it must wait for them.
      this.lostBeforeRestartHello++
      return []
    }
    if (!status.helloed) {
      // Protocol: routing to a replica before its hello removes it from the living set.
      if (status.living) {
        status.living = false
        this.died.push({ replica: to, at: now, reason: 'a datagram was routed to it before its hello' })
        this.observer?.died(now, to, 'a datagram was routed to it before its hello')
      }
      return []
    }
    return [{ type: 'send', to, bytes }]
  }

  private kill(replica: string, now: number): Effect {
    const status = this.status.get(replica)!
    status.living = false
    status.socketOpen = false
    this.killed.push(replica)
    this.down.push(replica)
    this.observer?.killed(now, replica)
    return { type: 'kill', replica }
  }

  private close(replica: string, now: number, reason: string): Effect[] {
    const status = this.status.get(replica)!
    status.socketOpen = false
    if (status.living) {
      status.living = false
      this.died.push({ replica, at: now, reason })
      this.observer?.died(now, replica, reason)
    }
    const effects: Effect[] = [{ type: 'close', replica }]
    if (this.living().length === 0) effects.push(this.stop('no replica alive'))
    return effects
  }

  private stop(reason: string): Effect {
    this.stopReason ??= reason
    return { type: 'stop', reason }
  }

  private markIncorrect(at: number, reason: string, staleGet?: StaleGet): void {
    this.incorrect.push(staleGet === undefined ? { at, reason } : { at, reason, staleGet })
  }
}
