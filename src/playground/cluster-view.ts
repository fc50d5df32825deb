/**
 * What the playground page reads of a cluster, live (cluster.ts) or recorded (recorded.ts): the
 * replicas, the flights on their way and how the others ended, the steps taken, the client
 * requests and what the checks found, the links cut; and the actions every view answers.
 */
import type { Event } from '../domain/events'
import { emptyPersistent, type PersistentState, type ReplicaState } from '../domain/state'
import type { ClientReply, Message, NodeId } from '../domain/wire'
import type { Effect } from '../domain/effect'
import { noTimers } from '../effects/perform'
import type { VirtualReplica } from '../effects/virtual-replica'
import type { Operation } from '../check/linearizability'
import type { Action, TimedAction } from './scenario'

/** How many steps, and ended flights, the page can still show. */
const STEP_MEMORY = 3000
const ENDED_MEMORY = 400

/** One call of `step`: what a replica was handed, and everything it returned. */
export interface StepRecord {
  readonly id: number
  readonly at: number
  readonly replica: NodeId
  readonly event: Event
  readonly before: ReplicaState
  readonly after: ReplicaState
  readonly effects: readonly Effect[]
  /** The flights its sends became. */
  readonly flights: readonly number[]
}

/** A datagram on its way. */
export interface Flight {
  readonly id: number
  readonly from: NodeId
  readonly to: NodeId
  readonly message: Message
  readonly sentAt: number
  deliverAt: number
  /** The step that sent it; undefined for a client's request. */
  readonly sentBy: number | undefined
  /** A copy made by a person's "duplicate" of this flight. */
  readonly copyOf: number | undefined
}

/** Why a flight ended: delivered, cut off by a partition, sent to a replica that was down, dropped by a person, lost by the network (check:sim's random drops). */
export type Fate = 'delivered' | 'partition' | 'down' | 'dropped' | 'lost'

export interface EndedFlight {
  readonly flight: Flight
  readonly fate: Fate
  readonly at: number
  /** The step that received it, when delivered to a replica. */
  readonly receivedBy: number | undefined
}

/** A replica in virtual time (the core's: effects/virtual-replica.ts), as the page shows it. */
export interface Replica extends VirtualReplica {
  /** What it persisted: what it restarts from (from the start: nothing, an empty log). */
  stored: PersistentState
  /** Restarts so far (each one draws a fresh random seed for its timeouts). */
  incarnation: number
  lastStep: number | undefined
}

/** One client request as the page lists it: each attempt (redirects make more) and its answer. */
export interface RequestView {
  readonly operation: Operation
  readonly attempts: { readonly mid: string; readonly to: NodeId; readonly sentAt: number; answer?: { readonly type: ClientReply['type']; readonly from: NodeId; readonly at: number; readonly value?: string } }[]
}

export interface ClientViolation {
  readonly invariant: string
  readonly detail: string
}

/**
 * What the page reads and does: a live cluster (PlaygroundCluster) or a recorded check:sim run
 * (recorded.ts), which replays and takes no actions. Both keep what the page shows here.
 */
export abstract class ClusterView {
  abstract readonly mode: 'live' | 'recorded'
  readonly replicas: readonly Replica[]
  readonly flights: Flight[] = []
  /** The flights that ended lately, how and when (the page marks losses, and explains a message). */
  readonly ended: EndedFlight[] = []
  /** The steps taken lately, oldest first. */
  readonly steps: StepRecord[] = []
  readonly requests: RequestView[] = []
  readonly clientViolations: ClientViolation[] = []
  now = 0
  /** Events handled so far (boots, deliveries, timers; in a recording, everything that happened). */
  events = 0
  /** Links cut, as "A|B" with A < B. */
  protected readonly cuts = new Set<string>()

  constructor(
    readonly seed: number,
    readonly ids: readonly NodeId[],
    readonly clientIds: readonly NodeId[],
  ) {
    this.replicas = ids.map((id) => ({ id, state: undefined, stored: emptyPersistent, timers: noTimers, incarnation: 0, lastStep: undefined }))
  }

  /** Every action taken, with its moment (a recording takes none). */
  abstract readonly actions: readonly TimedAction[]
  /** Scripted actions (or recorded happenings) still to come. */
  abstract readonly pendingScript: number
  /** The clients' history so far, each logical request once: what the linearizability checker reads. */
  abstract history(): Operation[]
  /** Takes an action now; returns why it was refused, if it was. */
  abstract act(action: Action): string | undefined
  /** Handles the next event (or scripted action); false when nothing is left. */
  abstract stepOnce(): boolean
  /** Handles everything due up to `time`, then stands at `time`. */
  abstract advanceTo(time: number): void
  /** The URL hash that reopens this view where it stands. */
  abstract hash(): string

  isCut(a: NodeId, b: NodeId): boolean {
    return this.cuts.has(linkKey(a, b))
  }

  replica(id: NodeId): Replica {
    const replica = this.replicas.find((r) => r.id === id)
    if (replica === undefined) throw new Error(`no replica ${id}`)
    return replica
  }

  /** The step with this number, while it is remembered. */
  stepRecord(id: number | undefined): StepRecord | undefined {
    if (id === undefined || this.steps.length === 0) return undefined
    const record = this.steps[id - this.steps[0]!.id]
    return record?.id === id ? record : undefined
  }

  protected remember(record: StepRecord): void {
    this.steps.push(record)
    if (this.steps.length > STEP_MEMORY) this.steps.splice(0, this.steps.length - STEP_MEMORY)
    this.replica(record.replica).lastStep = record.id
  }

  /** The flight has ended (taken out of the flights if it is there). */
  protected endFlight(flight: Flight, fate: Fate, receivedBy: number | undefined): void {
    const index = this.flights.indexOf(flight)
    if (index >= 0) this.flights.splice(index, 1)
    this.ended.push({ flight, fate, at: this.now, receivedBy })
    if (this.ended.length > ENDED_MEMORY) this.ended.splice(0, this.ended.length - ENDED_MEMORY)
  }

  /** Every link between two groups cut, every other one mended; a replica in no group is a group of its own. */
  protected partition(groups: readonly (readonly NodeId[])[]): void {
    this.cuts.clear()
    const groupOf = new Map<NodeId, number>()
    groups.forEach((group, g) => group.forEach((id) => groupOf.set(id, g)))
    for (const a of this.ids) for (const b of this.ids) if (a < b && (groupOf.get(a) ?? a) !== (groupOf.get(b) ?? b)) this.cuts.add(linkKey(a, b))
  }
}

/** A link between two replicas as the cuts name it, "A|B" with A < B. */
export const linkKey = (a: NodeId, b: NodeId): string => (a < b ? `${a}|${b}` : `${b}|${a}`)
