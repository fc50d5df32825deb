/**
 * The read-mapping algorithm (src/history/read-mapping.ts) on histories with known answers:
 * generated from a sequential register (linearizable by construction) and mutated so that they are
 * not, and against the search (register-search.ts) on every small history.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/check/rng'
import {
  lostWriteReadLater,
  maxPutsInFlight,
  readMovedBeforeItsWrite,
  sequentialHistory,
  staleReadAfterNewerWrite,
  type RegisterHistoryShape,
} from '../../src/history/generate'
import { checkLinearizable, type Operation } from '../../src/history/linearizability'
import { checkByReadMapping } from '../../src/history/read-mapping'
import { searchRegister, withoutUnobservedPendingWrites } from '../../src/history/register-search'
import { smallHistories } from './oracle'

/** One key's operations as the checker hands them on: completed gets, sorted by invocation. */
const prepared = (history: readonly Operation[]): Operation[] =>
  history.filter((op) => !(op.kind === 'get' && op.completedAt === undefined)).sort((a, b) => a.invokedAt - b.invokedAt)

const fastVerdict = (history: readonly Operation[]): string => checkByReadMapping(prepared(history)).kind
const searchVerdict = (history: readonly Operation[]): string => searchRegister(withoutUnobservedPendingWrites(prepared(history))).kind

const shapes = (maxOperations: number): fc.Arbitrary<RegisterHistoryShape> =>
  fc.record({
    operations: fc.integer({ min: 1, max: maxOperations }),
    putFraction: fc.constantFrom(0.2, 0.5, 0.8),
    spread: fc.integer({ min: 0, max: 40 }),
    pendingPutFraction: fc.constantFrom(0, 0.1, 0.3),
    pendingGetFraction: fc.constantFrom(0, 0.1),
    phantomPutFraction: fc.constantFrom(0, 0.1, 0.3),
  })

const generated = (maxOperations: number): fc.Arbitrary<{ readonly seed: number; readonly history: Operation[] }> =>
  fc.tuple(fc.integer({ min: 1, max: 2 ** 31 - 1 }), shapes(maxOperations)).map(([seed, shape]) => ({ seed, history: sequentialHistory(new Rng(seed), shape) }))

const mutations = {
  'a read moved before its write': readMovedBeforeItsWrite,
  'a stale read after a newer write completed': staleReadAfterNewerWrite,
  'a lost write read later': lostWriteReadLater,
} as const

describe('histories of a sequential register', () => {
  it('are linearizable, by the read-mapping algorithm and by checkLinearizable', () => {
    fc.assert(
      fc.property(generated(200), ({ history }) => {
        expect(fastVerdict(history)).toBe('linearizable')
        expect(checkLinearizable(history)).toEqual({ ok: true })
      }),
      { numRuns: 300 },
    )
  })

  for (const [name, mutate] of Object.entries(mutations)) {
    it(`are no longer linearizable with ${name}`, () => {
      let mutated = 0
      fc.assert(
        fc.property(generated(200), ({ seed, history }) => {
          const broken = mutate(new Rng(seed + 1), history)
          if (broken === undefined) return // nothing of the kind to mutate in this one
          mutated++
          const result = checkLinearizable(broken)
          expect(result.ok).toBe(false)
          if (!result.ok) {
            expect(result.verdict).toBe('not linearizable')
            expect(result.reason).toMatch(/^no linearization exists: /)
          }
        }),
        { numRuns: 300 },
      )
      expect(mutated).toBeGreaterThan(100)
    })
  }
})

describe('the read-mapping algorithm agrees with the search', () => {
  it('on every small history of a sequential register, mutated or not', () => {
    fc.assert(
      fc.property(generated(12), fc.constantFrom(undefined, ...Object.values(mutations)), ({ seed, history }, mutate) => {
        const judged = mutate === undefined ? history : (mutate(new Rng(seed + 1), history) ?? history)
        expect(fastVerdict(judged)).toBe(searchVerdict(judged))
      }),
      { numRuns: 2_000 },
    )
  })

  it('on small arbitrary histories: any interval, gets of any value, puts that never complete', () => {
    const arbitrary = smallHistories(['k'], 8)
    let rejected = 0
    fc.assert(
      fc.property(arbitrary, (history) => {
        const verdict = searchVerdict(history)
        if (verdict === 'not linearizable') rejected++
        expect(fastVerdict(history)).toBe(verdict)
      }),
      { numRuns: 3_000 },
    )
    expect(rejected).toBeGreaterThan(300) // both verdicts, many times
  })
})

describe('the read-mapping algorithm, case by case', () => {
  let n = 0
  const put = (value: string, invokedAt: number, completedAt: number | undefined): Operation => ({
    id: `op${n++}`, client: 'C', key: 'k', kind: 'put', value, invokedAt, completedAt,
  })
  const get = (value: string | undefined, invokedAt: number, completedAt: number): Operation => ({
    id: `op${n++}`, client: 'C', key: 'k', kind: 'get', value, invokedAt, completedAt,
  })
  const verdict = (history: readonly Operation[]): ReturnType<typeof checkByReadMapping> => checkByReadMapping(prepared(history))

  it('rejects a read of a value no put wrote, and names the read', () => {
    const result = verdict([put('a', 0, 1), get('zz', 2, 3)])
    expect(result).toMatchObject({ kind: 'not linearizable' })
    if (result.kind === 'not linearizable') expect(result.reason).toMatch(/get\(k\) read zz .*no put wrote that value/)
  })

  it('reads of the empty initial value: before every put, not after a completed one', () => {
    expect(verdict([get(undefined, 0, 1), put('a', 2, 3), get('a', 4, 5)]).kind).toBe('linearizable')
    expect(verdict([put('a', 0, 10), get(undefined, 1, 2), get('a', 3, 4)]).kind).toBe('linearizable')
    const late = verdict([put('a', 0, 1), get(undefined, 2, 3)])
    expect(late.kind).toBe('not linearizable')
    if (late.kind === 'not linearizable') expect(late.reason).toMatch(/the reads of the empty initial value and the put of a/)
  })

  it('a put that never completed: read after its invocation, it took effect; read before, never', () => {
    expect(verdict([put('a', 0, 1), put('b', 2, undefined), get('b', 50, 51), get('b', 60, 61)]).kind).toBe('linearizable')
    expect(verdict([put('a', 0, 1), get('b', 2, 3), put('b', 5, undefined)]).kind).toBe('not linearizable')
    // Unread, it may never have happened: the old value may still be read long after.
    expect(verdict([put('a', 0, 1), put('b', 2, undefined), get('a', 90, 91)]).kind).toBe('linearizable')
    // Read, it happened: the value it overwrote cannot come back once it has been read.
    expect(verdict([put('a', 0, 1), put('b', 2, undefined), get('b', 50, 51), get('a', 60, 61)]).kind).toBe('not linearizable')
  })

  it('two writes each read before the other completed: the conflict names both pairs of operations', () => {
    const history = [put('a', 0, 10), put('b', 0, 10), get('a', 1, 2), get('b', 3, 4), get('a', 5, 6)]
    const result = verdict(history)
    expect(result.kind).toBe('not linearizable')
    if (result.kind === 'not linearizable') {
      expect(result.reason).toMatch(/the put of a and its reads and the put of b and its reads must each come before the other/)
      expect(result.reason).toMatch(/completed before/)
    }
  })

  it('leaves a cas or a value written twice to the search', () => {
    expect(verdict([put('a', 0, 1), put('a', 2, 3)])).toMatchObject({ kind: 'not applicable' })
    const cas: Operation = { id: 'x', client: 'C', key: 'k', kind: 'cas', expected: 'a', value: 'b', invokedAt: 2, completedAt: 3 }
    expect(verdict([put('a', 0, 1), cas])).toMatchObject({ kind: 'not applicable' })
  })

  it('a long history with many puts in flight: both verdicts', () => {
    const random = new Rng(7)
    const history = sequentialHistory(random, { operations: 3_000, putFraction: 0.5, spread: 400, pendingPutFraction: 0.05, phantomPutFraction: 0.05 })
    expect(maxPutsInFlight(history)).toBeGreaterThanOrEqual(20)
    expect(verdict(history).kind).toBe('linearizable')
    expect(verdict(staleReadAfterNewerWrite(random, history)!).kind).toBe('not linearizable')
  })
})
