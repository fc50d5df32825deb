/**
 * A tiny deterministic network of replicas for scripted scenarios: every replica is driven only by
 * `step`; messages are delivered in FIFO order when the test says so; timers fire only when the test
 * fires them; the clock moves only when the test moves it. Messages to clients are collected.
 * Each replica is the virtual-time core's (src/effects/virtual-replica.ts).
 */
import { recipients } from '../../src/effects/perform'
import { bootReplica, stepVirtualReplica, virtualReplica, type StepOutputs, type VirtualReplica } from '../../src/effects/virtual-replica'
import { received, started, timerFired, type Event } from '../../src/domain/events'
import type { ReplicaState } from '../../src/domain/state'
import { frozenStep as step } from '../../src/check/stepper'
import type { ClientRequest, Message, NodeId } from '../../src/domain/wire'
import { settings } from './helpers'

export class Cluster {
  readonly replicas = new Map<NodeId, VirtualReplica>()
  readonly dead = new Set<NodeId>()
  /** Replica-to-replica messages not yet delivered, in order. */
  inflight: Message[] = []
  /** Every message a replica sent to a client, in order. */
  readonly toClients: Message[] = []
  /** Every client request sent, in order. */
  readonly requests: ClientRequest[] = []
  /** Replica-to-replica deliveries this returns true for are dropped. */
  drop: (m: Message, to: NodeId) => boolean = () => false
  now = 0

  /** Where a replica's sends go: to the replicas they are for, in flight, or to the clients. */
  private readonly outputs: StepOutputs = {
    send: (m) => {
      if (m.type === 'hello') return
      if (recipients(m, this.ids).length > 0) this.inflight.push(m)
      else this.toClients.push(m)
    },
  }

  constructor(readonly ids: readonly NodeId[]) {
    ids.forEach((id, i) => {
      const replica = virtualReplica(id)
      bootReplica(replica, { peers: ids, seed: 1000 + i, settings })
      this.replicas.set(id, replica)
    })
  }

  state(id: NodeId): ReplicaState {
    return this.replicas.get(id)!.state!
  }

  at(now: number): this {
    this.now = now
    return this
  }

  startAll(): this {
    for (const id of this.ids) this.apply(id, started(this.now))
    return this
  }

  apply(id: NodeId, event: Event): void {
    if (this.dead.has(id)) return
    stepVirtualReplica(this.replicas.get(id)!, step, event, this.outputs)
  }

  fire(id: NodeId, timer: 'election' | 'heartbeat'): this {
    this.apply(id, timerFired(this.now, timer))
    return this
  }

  request(r: ClientRequest): this {
    this.requests.push(r)
    this.apply(r.dst, received(this.now, r))
    return this
  }

  kill(id: NodeId): this {
    this.dead.add(id)
    return this
  }

  /** Delivers in-flight messages (and those they cause) until none is left. */
  flush(maxDeliveries = 10_000): this {
    let deliveries = 0
    while (this.inflight.length > 0) {
      const m = this.inflight.shift()!
      for (const to of recipients(m, this.ids)) {
        if (this.dead.has(to) || this.dead.has(m.src) || this.drop(m, to)) continue
        if (++deliveries > maxDeliveries) throw new Error('the cluster does not settle')
        this.apply(to, received(this.now, m))
      }
    }
    return this
  }

  /** The replies sent to clients for one MID. */
  repliesTo(MID: string): Message[] {
    return this.toClients.filter((m) => 'MID' in m && m.MID === MID)
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => !this.dead.has(id) && this.state(id).role === 'leader')
  }
}
