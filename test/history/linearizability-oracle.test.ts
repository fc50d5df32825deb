/**
 * checkLinearizable against a brute-force oracle on small concurrent histories: several clients,
 * one or two keys, overlapping and equal timestamps, puts that never complete; and histories of
 * one shared key that several sequential clients write and read concurrently, as in Jepsen's
 * lin-kv workload (with unique values per write, and with values written twice). The oracle tries
 * every subset of the incomplete puts and every order of the operations that respects real time
 * (a before b when a completed strictly before b was invoked, the checker's rule).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkLinearizable, type Operation } from '../../src/history/linearizability'

const linearizableKey = (ops: readonly Operation[]): boolean => {
  const pendingPuts = ops.filter((op) => op.kind === 'put' && op.completedAt === undefined)
  const completed = ops.filter((op) => op.completedAt !== undefined)
  for (let subset = 0; subset < 1 << pendingPuts.length; subset++) {
    const chosen = [...completed, ...pendingPuts.filter((_, i) => subset & (1 << i))]
    const used = new Array<boolean>(chosen.length).fill(false)
    const order = (placed: number, register: string | undefined): boolean => {
      if (placed === chosen.length) return true
      for (let x = 0; x < chosen.length; x++) {
        if (used[x]) continue
        const op = chosen[x]!
        const mustPrecede = chosen.some((other, y) => !used[y] && y !== x && other.completedAt !== undefined && other.completedAt < op.invokedAt)
        if (mustPrecede) continue
        if (op.kind === 'get' && op.value !== register) continue
        used[x] = true
        const ok = order(placed + 1, op.kind === 'put' ? op.value : register)
        used[x] = false
        if (ok) return true
      }
      return false
    }
    if (order(0, undefined)) return true
  }
  return false
}

const oracle = (history: readonly Operation[]): boolean => {
  const keys = new Set(history.map((op) => op.key))
  return [...keys].every((key) => linearizableKey(history.filter((op) => op.key === key && !(op.kind === 'get' && op.completedAt === undefined))))
}

/** Small histories: unique values per put; a get reads nothing, some put's value of any key, or a stray value. */
const histories = fc
  .array(
    fc.record({
      kind: fc.constantFrom<'get' | 'put'>('get', 'put'),
      key: fc.constantFrom('a', 'b'),
      client: fc.constantFrom('C1', 'C2', 'C3'),
      invokedAt: fc.integer({ min: 0, max: 8 }),
      length: fc.integer({ min: 0, max: 4 }),
      completes: fc.integer({ min: 0, max: 4 }),
      reads: fc.integer({ min: -2, max: 7 }),
    }),
    { minLength: 1, maxLength: 7 },
  )
  .map((specs) =>
    specs.map(
      (s, i): Operation => ({
        id: `op${i}`,
        client: s.client,
        key: s.key,
        kind: s.kind,
        value: s.kind === 'put' ? `v${i}` : s.reads === -2 ? 'stray' : s.reads === -1 || s.reads >= specs.length ? undefined : `v${s.reads}`,
        invokedAt: s.invokedAt,
        completedAt: s.completes === 0 ? undefined : s.invokedAt + s.length,
      }),
    ),
  )

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
