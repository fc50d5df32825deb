/**
 * The replica-to-replica network: counting, partitions, random drops and leader tracking
 * (protocol steps 4-6). Pure: no sockets, randomness from a seeded generator.
 */
import { BROADCAST } from './datagram'
import { Prng } from './prng'

export interface FanOut {
  /** How much this datagram adds to total_msgs. */
  counted: number
  /** Replicas that get a copy. */
  delivered: string[]
  droppedByPartition: number
  droppedRandomly: number
}

export class Network {
  /** The majority side of the current partition, or null when the network is whole. */
  private majority: ReadonlySet<string> | null = null
  /** "The leader" as the simulator tracks it; BROADCAST when unknown. */
  leader = BROADCAST
  totalMsgs = 0
  droppedRandomly = 0
  droppedByPartition = 0

  constructor(
    readonly replicaIds: readonly string[],
    private readonly dropRate: number,
    private readonly random: Prng,
  ) {}

  get partitioned(): boolean {
    return this.majority !== null
  }

  majoritySide(): ReadonlySet<string> | null {
    return this.majority
  }

  setPartition(majority: Iterable<string>): void {
    this.majority = new Set(majority)
  }

  heal(): void {
    this.majority = null
  }

  /** True when a partition puts a and b on different sides. */
  separated(a: string, b: string): boolean {
    if (this.majority === null) return false
    return this.majority.has(a) !== this.majority.has(b)
  }

  /** Step 4: with no partition, or from the majority side, the datagram's leader field is "the leader". */
  observeLeader(src: string, leader: string): void {
    if (this.majority === null || this.majority.has(src)) this.leader = leader
  }

  /** Steps 5 and 6, for a destination that is a replica or BROADCAST. */
  fanOut(src: string, dst: string): FanOut {
    const targets = dst === BROADCAST ? this.replicaIds.filter((id) => id !== src) : [dst]
    const counted = dst === BROADCAST ? this.replicaIds.length - 1 : 1
    const result: FanOut = { counted, delivered: [], droppedByPartition: 0, droppedRandomly: 0 }
    for (const target of targets) {
      if (this.separated(src, target)) result.droppedByPartition++
      else if (this.dropRate > 0 && this.random.chance(this.dropRate)) result.droppedRandomly++
      else result.delivered.push(target)
    }
    this.totalMsgs += counted
    this.droppedByPartition += result.droppedByPartition
    this.droppedRandomly += result.droppedRandomly
    return result
  }

  /** A majority of `replicas // 2 + 1` IDs from all configured ones, containing `mustInclude` if given. */
  drawMajority(random: Prng, mustInclude?: string): string[] {
    const size = Math.floor(this.replicaIds.length / 2) + 1
    if (mustInclude === undefined) return random.sample(this.replicaIds, size)
    const others = this.replicaIds.filter((id) => id !== mustInclude)
    return [mustInclude, ...random.sample(others, size - 1)]
  }
}
