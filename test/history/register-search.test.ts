/**
 * The bounded search (src/history/register-search.ts), which judges what the read-mapping
 * algorithm cannot (a cas, a value written twice): against a brute-force oracle on small histories
 * with cas, and its verdicts when a bound is reached or the checker throws.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkLinearizable, type Operation } from '../../src/history/linearizability'
import { searchRegister } from '../../src/history/register-search'
import { oracle } from './oracle'

/** Small histories of one key with puts, gets and cas over a few values (so values repeat), some pending or failed. */
const histories = fc
  .array(
    fc.record({
      kind: fc.constantFrom<'get' | 'put' | 'cas'>('get', 'put', 'cas'),
      invokedAt: fc.integer({ min: 0, max: 8 }),
      length: fc.integer({ min: 0, max: 4 }),
      outcome: fc.constantFrom('ok', 'ok', 'ok', 'pending', 'failed'),
      value: fc.constantFrom(undefined, 'a', 'b', 'c'),
      expected: fc.constantFrom(undefined, 'a', 'b', 'c'),
    }),
    { minLength: 1, maxLength: 7 },
  )
  .map((specs) =>
    specs.map((s, i): Operation => {
      const value = s.kind === 'get' ? s.value : (s.value ?? 'a')
      const op: Operation = {
        id: `op${i}`, client: `c${i}`, key: 'k', kind: s.kind, value, invokedAt: s.invokedAt,
        completedAt: s.outcome === 'pending' ? undefined : s.invokedAt + s.length,
      }
      if (s.kind === 'cas') op.expected = s.expected
      if (s.outcome === 'failed' && s.kind !== 'get') op.failed = true
      return op
    }),
  )

describe('the search with cas, against a brute-force oracle', () => {
  it('on small histories of puts, gets and cas, values written again, some pending or failed: both verdicts', () => {
    let accepted = 0
    let rejected = 0
    fc.assert(
      fc.property(histories, (history) => {
        const expected = oracle(history)
        const result = checkLinearizable(history)
        expect(result.ok).toBe(expected)
        if (expected) accepted++
        else rejected++
      }),
      { numRuns: 3_000 },
    )
    expect(accepted).toBeGreaterThan(300)
    expect(rejected).toBeGreaterThan(300)
  })

  it('a cas sees the value it expects, and a cas that never completed may take effect late or never', () => {
    const op = (id: string, fields: Partial<Operation>): Operation => ({ id, client: id, key: 'k', kind: 'get', value: undefined, invokedAt: 0, completedAt: 1, ...fields })
    const put = op('p', { kind: 'put', value: 'a', invokedAt: 0, completedAt: 1 })
    const cas = op('c', { kind: 'cas', expected: 'a', value: 'b', invokedAt: 2, completedAt: 3 })
    expect(checkLinearizable([put, cas, op('g', { value: 'b', invokedAt: 4, completedAt: 5 })]).ok).toBe(true)
    expect(checkLinearizable([put, { ...cas, expected: 'z' }]).ok).toBe(false)
    const pending = { ...cas, completedAt: undefined }
    expect(checkLinearizable([put, pending, op('g', { value: 'a', invokedAt: 4, completedAt: 5 })]).ok).toBe(true)
    expect(checkLinearizable([put, pending, op('g', { value: 'b', invokedAt: 4, completedAt: 5 })]).ok).toBe(true)
    // A failed cas did not happen: its new value cannot be read.
    expect(checkLinearizable([put, { ...cas, failed: true }, op('g', { value: 'b', invokedAt: 4, completedAt: 5 })]).ok).toBe(false)
  })
})

describe('bounded: the verdict is undecided, with the reason, when a bound is reached', () => {
  /** Puts of two values over and over, all concurrent, and a read that no order explains: the search must run to the end. */
  const hard = (): Operation[] => {
    const ops: Operation[] = []
    for (let i = 0; i < 24; i++) ops.push({ id: `p${i}`, client: `c${i}`, key: 'k', kind: 'put', value: i % 2 === 0 ? 'a' : 'b', invokedAt: 0, completedAt: 100 })
    ops.push({ id: 'g', client: 'r', key: 'k', kind: 'get', value: 'never', invokedAt: 0, completedAt: 100 })
    return ops
  }

  it('the memo bound', () => {
    const result = searchRegister(hard(), { memoBytes: 100_000, steps: 1e9 })
    expect(result.kind).toBe('undecided')
    if (result.kind === 'undecided') expect(result.reason).toMatch(/^undecided: the search of 25 operations stopped when its memo reached 0 MiB \(\d+ states\)/)
  })

  it('the step bound', () => {
    const result = searchRegister(hard(), { memoBytes: 1e9, steps: 500 })
    expect(result.kind).toBe('undecided')
    if (result.kind === 'undecided') expect(result.reason).toMatch(/stopped when it entered 500 states/)
  })

  it('checkLinearizable reports undecided with its key, and prefers a definite violation on another key', () => {
    const limits = { memoBytes: 100_000, steps: 1e9 }
    const undecided = checkLinearizable(hard(), limits)
    expect(undecided).toMatchObject({ ok: false, verdict: 'undecided', key: 'k' })
    const stale: Operation[] = [
      { id: 'w', client: 'x', key: 'other', kind: 'put', value: 'v', invokedAt: 0, completedAt: 1 },
      { id: 'r', client: 'x', key: 'other', kind: 'get', value: undefined, invokedAt: 2, completedAt: 3 },
    ]
    expect(checkLinearizable([...hard(), ...stale], limits)).toMatchObject({ ok: false, verdict: 'not linearizable', key: 'other' })
  })
})

describe('a checker that throws', () => {
  it('is reported as "the checker failed" with its cause, not as a verdict on the history', () => {
    const broken = { id: 'x', client: 'c', key: 'k', kind: 'get', invokedAt: 0, completedAt: 1 } as Operation
    Object.defineProperty(broken, 'value', { get: () => { throw new RangeError('Set maximum size exceeded') }, enumerable: true })
    const result = checkLinearizable([broken])
    expect(result).toMatchObject({ ok: false, verdict: 'checker failed', key: 'k' })
    if (!result.ok) expect(result.reason).toMatch(/^the checker failed: RangeError: Set maximum size exceeded\n\s+at /)
  })
})
