/**
 * A seeded pseudo-random generator (mulberry32) whose whole state is one 32-bit number, kept in the
 * replica state so that `step` stays pure: state in, number and next state out.
 */
export type RandomState = number

/** Returns a float in [0, 1) and the generator's next state. */
export const nextRandom = (state: RandomState): readonly [number, RandomState] => {
  const next = (state + 0x6d2b79f5) >>> 0
  let x = next
  x = Math.imul(x ^ (x >>> 15), x | 1)
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
  const value = ((x ^ (x >>> 14)) >>> 0) / 4294967296
  return [value, next]
}

/** An integer in [min, max], both included, and the next state. */
export const randomIntBetween = (state: RandomState, min: number, max: number): readonly [number, RandomState] => {
  const [value, next] = nextRandom(state)
  return [min + Math.floor(value * (max - min + 1)), next]
}

/** Derives a generator seed from any string (a replica ID, say) and a number. */
export const seedFrom = (text: string, salt: number): RandomState => {
  let h = (0x811c9dc5 ^ salt) >>> 0
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  }
  return h
}
