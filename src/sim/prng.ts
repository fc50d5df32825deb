/**
 * The simulator's seeded pseudo-random source, with the methods its workload, network and fault
 * schedule use. It draws from the project's one generator, the domain's mulberry32
 * (src/domain/random.ts, which the replicas and check:sim's Rng use too), seeded from the run's seed
 * and a stream number. Every random decision of the simulator goes through one of these, never
 * Math.random.
 */
import { nextRandom, seedFrom, type RandomState } from '../domain/random'

export class Prng {
  private state: RandomState

  constructor(seed: number, stream = 0) {
    this.state = seedFrom(`kvsim stream ${stream}`, seed >>> 0)
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    const [value, state] = nextRandom(this.state)
    this.state = state
    return value
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.below(items.length)]!
  }

  /** `count` distinct items, in random order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items]
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.below(i + 1)
      ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
    }
    return copy.slice(0, count)
  }

  /** A string of `length` characters drawn from `alphabet`. */
  string(length: number, alphabet = ALPHANUMERIC): string {
    let out = ''
    for (let i = 0; i < length; i++) out += alphabet[this.below(alphabet.length)]
    return out
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Independent generators for the simulator's separate concerns, all from one seed. */
export interface RandomStreams {
  workload: Prng
  network: Prng
  faults: Prng
}

export function randomStreams(seed: number): RandomStreams {
  return { workload: new Prng(seed, 1), network: new Prng(seed, 2), faults: new Prng(seed, 3) }
}
