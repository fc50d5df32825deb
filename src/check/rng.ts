/**
 * The scheduler's seeded random source: a thin mutable wrapper over the domain's mulberry32, so
 * that a run depends on its seed alone (no Math.random anywhere in the checks). kvsim's Prng
 * (src/sim/prng.ts) draws from the same generator, with the methods the simulator uses. Both say
 * which integers they draw by name: `between(min, max)` includes both ends, `below(n)` is [0, n).
 */
import { nextRandom, type RandomState } from '../domain/random'

export class Rng {
  private state: RandomState

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    const [value, state] = nextRandom(this.state)
    this.state = state
    return value
  }

  /** An integer in [min, max], both included. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick from an empty list')
    return items[Math.floor(this.next() * items.length)]!
  }

  /** A fresh 32-bit seed for something else (a replica's own generator). */
  seed(): number {
    return Math.floor(this.next() * 4294967296) >>> 0
  }
}
