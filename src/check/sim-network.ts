/**
 * check:sim's network and faults on it: the well-formedness of what a replica hands the network,
 * and the links between replicas (which side of a partition each is on; the losses, delays and
 * copies of the datagrams that cross). What is lost and when a copy arrives comes from the run's
 * seeded generator, in the order the run asks.
 */
import { MAX_DATAGRAM_BYTES, UNKNOWN_LEADER, type AppendEntries, type Entry, type Message, type NodeId } from '../domain/wire'
import type { Violation } from './violation'
import type { Rng } from './rng'
import type { NetworkOptions } from './sim-options'
import { formatMessage } from './trace'

/** What is wrong with a datagram a replica sent, if anything: its source, the leader it names, its contents and its size. */
export const datagramProblem = (sender: NodeId, message: Message, ids: readonly NodeId[]): Violation | undefined => {
  if (message.src !== sender) return { invariant: 'Well-formed datagrams', detail: `${sender} sent a datagram with src ${message.src}` }
  if (message.leader !== UNKNOWN_LEADER && !ids.includes(message.leader)) {
    return { invariant: 'Well-formed datagrams', detail: `${sender} named ${message.leader} as leader: ${formatMessage(message)}` }
  }
  if (message.type === 'hello') return undefined
  if (!isReadable(message)) {
    return { invariant: 'Effects are plain data', detail: `${sender} sent a ${message.type} whose contents are not readable after the step (a leaked immer draft)` }
  }
  if (message.type === 'append' && message.entries.length > 16 && appendJsonLength(message) > MAX_DATAGRAM_BYTES) {
    return { invariant: 'Well-formed datagrams', detail: `${sender} sent an AppendEntries over ${MAX_DATAGRAM_BYTES} bytes` }
  }
  return undefined
}

/** The links between the replicas (by position): partitions, losses, delays and duplicates. */
export class SimNetwork {
  /** Partition group of each replica; all 0 when healed. */
  private group: number[]

  constructor(
    private readonly rng: Rng,
    private readonly replicas: number,
    private options: NetworkOptions,
  ) {
    this.group = Array.from({ length: replicas }, () => 0)
  }

  /** What becomes of a datagram from `from` to `to`: lost to the partition or at random, or delivered after each of these delays (two: a duplicate). */
  fate(from: number, to: number): 'partition' | 'random' | readonly number[] {
    if (this.group[from] !== this.group[to]) return 'partition'
    if (this.rng.chance(this.options.dropRate)) return 'random'
    const first = this.delay()
    return this.rng.chance(this.options.duplicateRate) ? [first, this.delay()] : [first]
  }

  /**
   * A random split in two (positions shuffled, then cut); `first`, if given, goes to the front, so
   * that it lands in the first side (the current leader, in a minority more often). Returns the
   * order and where it was cut.
   */
  split(first: number | undefined): { readonly order: readonly number[]; readonly cut: number } {
    const n = this.replicas
    const order = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = this.rng.between(0, i)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    if (first !== undefined) {
      order.splice(order.indexOf(first), 1)
      order.unshift(first)
    }
    const cut = this.rng.between(1, n - 1)
    this.group = this.group.map(() => 1)
    for (let k = 0; k < cut; k++) this.group[order[k]!] = 0
    return { order, cut }
  }

  /** The two sides, by position. */
  sides(): number[][] {
    return [0, 1].map((g) => this.group.flatMap((group, i) => (group === g ? [i] : [])))
  }

  heal(): void {
    this.group = this.group.map(() => 0)
  }

  /** The end of the fault phase: no more losses or duplicates. */
  calm(): void {
    this.options = { ...this.options, dropRate: 0, duplicateRate: 0 }
  }

  private delay(): number {
    return this.rng.between(this.options.minDelayMs, this.options.maxDelayMs)
  }
}

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
