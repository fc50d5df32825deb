/**
 * checkLinearizable against a brute-force oracle on small concurrent histories: several clients,
 * one or two keys, overlapping and equal timestamps, puts that never complete; and histories of
 * one shared key that several sequential clients write and read concurrently, as in Jepsen's
 * lin-kv workload (with unique values per write, and with values written twice). The oracle tries
 * every subset of the incomplete puts and every order of the operations that respects real time
 * (oracle.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkLinearizable, type Operation } from '../../src/history/linearizability'
import { oracle, smallHistories } from './oracle'

const histories = smallHistories(['a', 'b'])

describe('checkLinearizable agrees with a brute-force oracle', () => {
  it('on small concurrent histories, both verdicts', () => {
    let accepted = 0
    let rejected = 0
    fc.assert(
      fc.property(histories, (history) => {
        const expected = oracle(history)
        expect(checkLinearizable(history).ok).toBe(expected)
        if (expected) accepted++
        else rejected++
      }),
      { numRuns: 3_000, seed: 20261125 },
    )
    // Both verdicts are exercised, many times each.
    expect(accepted).toBeGreaterThan(300)
    expect(rejected).toBeGreaterThan(300)
  })

  it('on histories whose operations arrive in any order', () => {
    fc.assert(
      fc.property(histories, fc.integer({ min: 0, max: 1_000 }), (history, rotation) => {
        const shifted = history.map((_, i) => history[(i + rotation) % history.length]!)
        expect(checkLinearizable(shifted).ok).toBe(oracle(history))
      }),
      { numRuns: 500, seed: 7 },
    )
  })
})

/**
 * One shared key, several clients, each client sequential (it invokes its next operation after
 * its previous one completed; a put that never completes is its last), as the shared workload's
 * clients are. Gets read nothing, the value of some put of the key, or a stray value; with
 * `reusedValues`, puts draw their values from two, so that several puts write the same value.
 */
const sharedKeyHistories = (reusedValues: boolean) =>
  fc
    .array(
      fc.array(
        fc.record({
          kind: fc.constantFrom<'get' | 'put'>('get', 'put'),
          gap: fc.integer({ min: 0, max: 3 }),
          length: fc.integer({ min: 0, max: 5 }),
          completes: fc.integer({ min: 0, max: 5 }),
          reads: fc.integer({ min: -2, max: 9 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      { minLength: 2, maxLength: 4 },
    )
    .map((clients) => {
      const history: Operation[] = []
      clients.forEach((specs, c) => {
        let time = c % 2
        for (const s of specs) {
          const invokedAt = time + s.gap
          const pending = s.kind === 'put' && s.completes === 0
          history.push({
            id: `op${history.length}`,
            client: `C${c}`,
            key: 'k',
            kind: s.kind,
            value: s.kind === 'put' ? (reusedValues ? `x${history.length % 2}` : `v${history.length}`) : `${s.reads}`,
            invokedAt,
            completedAt: pending ? undefined : invokedAt + s.length,
          })
          if (pending) break
          time = invokedAt + s.length + 1
        }
      })
      // A get reads nothing, the value some put wrote, or a stray value.
      const puts = history.filter((op) => op.kind === 'put')
      return history.map((op) => {
        if (op.kind === 'put') return op
        const n = Number(op.value)
        return { ...op, value: n === -2 ? 'stray' : n === -1 || n >= puts.length ? undefined : puts[n]!.value }
      })
    })

describe('checkLinearizable agrees with the oracle on one key shared by several clients', () => {
  for (const reusedValues of [false, true]) {
    it(`concurrent writes and reads, ${reusedValues ? 'values written more than once' : 'a unique value per write'}, both verdicts`, () => {
      let accepted = 0
      let rejected = 0
      let concurrentWrites = 0
      fc.assert(
        fc.property(sharedKeyHistories(reusedValues), (history) => {
          const expected = oracle(history)
          expect(checkLinearizable(history).ok).toBe(expected)
          if (expected) accepted++
          else rejected++
          const puts = history.filter((op) => op.kind === 'put')
          const overlaps = (a: Operation, b: Operation): boolean =>
            a.invokedAt <= (b.completedAt ?? Infinity) && b.invokedAt <= (a.completedAt ?? Infinity)
          if (puts.some((a) => puts.some((b) => a !== b && a.client !== b.client && overlaps(a, b)))) concurrentWrites++
        }),
        { numRuns: 3_000, seed: reusedValues ? 11 : 20261126 },
      )
      // Both verdicts, and histories where two clients' writes overlap, many times each.
      expect(accepted).toBeGreaterThan(300)
      expect(rejected).toBeGreaterThan(300)
      expect(concurrentWrites).toBeGreaterThan(300)
    })
  }
})
