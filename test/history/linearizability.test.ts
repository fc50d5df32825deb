import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkLinearizable, Operation } from '../../src/history/linearizability'

let counter = 0
const put = (key: string, value: string, invokedAt: number, completedAt: number | undefined, client = 'C1'): Operation => ({
  id: `op${counter++}`, client, key, kind: 'put', value, invokedAt, completedAt,
})
const get = (key: string, value: string | undefined, invokedAt: number, completedAt: number | undefined, client = 'C1'): Operation => ({
  id: `op${counter++}`, client, key, kind: 'get', value, invokedAt, completedAt,
})

describe('checkLinearizable', () => {
  it('accepts an empty history', () => {
    expect(checkLinearizable([])).toEqual({ ok: true })
  })

  it('accepts sequential puts and gets', () => {
    const history = [put('k', 'a', 0, 1), get('k', 'a', 2, 3), put('k', 'b', 4, 5), get('k', 'b', 6, 7)]
    expect(checkLinearizable(history).ok).toBe(true)
  })

  it('accepts a get of the initial (undefined) value', () => {
    expect(checkLinearizable([get('k', undefined, 0, 1), put('k', 'a', 2, 3)]).ok).toBe(true)
  })

  it('rejects a stale read after a completed overwrite', () => {
    const history = [put('k', 'a', 0, 1), put('k', 'b', 2, 3), get('k', 'a', 4, 5)]
    const result = checkLinearizable(history)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.key).toBe('k')
      expect(result.operations).toHaveLength(3)
      expect(result.reason).toMatch(/linearization/)
    }
  })

  it('allows a read concurrent with a put to see either value', () => {
    expect(checkLinearizable([put('k', 'a', 0, 1), put('k', 'b', 2, 6), get('k', 'a', 3, 4)]).ok).toBe(true)
    expect(checkLinearizable([put('k', 'a', 0, 1), put('k', 'b', 2, 6), get('k', 'b', 3, 4)]).ok).toBe(true)
  })

  it('rejects reads that go back in time under a concurrent put', () => {
    const history = [put('k', 'a', 0, 1), put('k', 'b', 2, 10), get('k', 'b', 3, 4), get('k', 'a', 5, 6)]
    expect(checkLinearizable(history).ok).toBe(false)
  })

  it('lets a put that never completed take effect late, or never', () => {
    const late = [put('k', 'a', 0, 1), put('k', 'b', 2, undefined), get('k', 'a', 3, 4), get('k', 'b', 20, 21)]
    expect(checkLinearizable(late).ok).toBe(true)
    const never = [put('k', 'a', 0, 1), put('k', 'b', 2, undefined), get('k', 'a', 30, 31)]
    expect(checkLinearizable(never).ok).toBe(true)
  })

  it('does not let a pending put take effect before its invocation', () => {
    const history = [put('k', 'a', 0, 1), get('k', 'b', 2, 3), put('k', 'b', 5, undefined)]
    expect(checkLinearizable(history).ok).toBe(false)
  })

  it('ignores gets that never completed', () => {
    expect(checkLinearizable([put('k', 'a', 0, 1), get('k', 'zzz', 2, undefined)]).ok).toBe(true)
  })

  it('checks keys independently and names the bad key', () => {
    const history = [put('x', '1', 0, 1), get('x', '1', 2, 3), put('y', '1', 0, 1), get('y', '2', 2, 3)]
    const result = checkLinearizable(history)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.key).toBe('y')
  })

  it('rejects a read of a value nobody wrote', () => {
    expect(checkLinearizable([get('k', 'ghost', 0, 1)]).ok).toBe(false)
  })

  it('is fast on a few hundred heavily concurrent operations per key', () => {
    const history: Operation[] = []
    let time = 0
    let current: string | undefined
    for (let i = 0; i < 400; i++) {
      // Overlapping windows: every operation is concurrent with its few neighbours.
      const start = time
      time += 1
      if (i % 3 === 0) {
        current = `v${i}`
        history.push(put('k', current, start, start + 4, `C${i % 8}`))
      } else {
        history.push(get('k', current, start, start + 4, `C${i % 8}`))
      }
    }
    // A few puts that never complete make the search wider.
    for (let i = 0; i < 10; i++) history.push(put('k', `lost${i}`, i * 40, undefined))
    const started = Date.now()
    expect(checkLinearizable(history).ok).toBe(true)
    // Report, do not assert on, the time taken.
    console.log(`linearizability: ${history.length} ops checked in ${Date.now() - started} ms`)
  })

  it('finds a violation deep in a long history', () => {
    const history: Operation[] = []
    for (let i = 0; i < 300; i++) history.push(put('k', `v${i}`, i * 10, i * 10 + 5))
    history.push(get('k', 'v10', 5000, 5001))
    expect(checkLinearizable(history).ok).toBe(false)
  })
})

describe('checkLinearizable on generated histories', () => {
  // Histories made from a real sequential execution: each operation takes effect at a point inside
  // its [invokedAt, completedAt] window, so they are linearizable by construction.
  const executions = fc.array(
    fc.record({
      kind: fc.constantFrom<'get' | 'put'>('get', 'put'),
      key: fc.constantFrom('a', 'b'),
      before: fc.integer({ min: 0, max: 30 }),
      after: fc.integer({ min: 0, max: 30 }),
      completes: fc.boolean(),
    }),
    { maxLength: 40 },
  )

  it('accepts every history produced by a sequential execution', () => {
    fc.assert(
      fc.property(executions, (steps) => {
        const register = new Map<string, string | undefined>()
        const history: Operation[] = steps.map((step, i) => {
          const at = i * 10 // the linearization point
          const completedAt = step.completes || step.kind === 'get' ? at + step.after : undefined
          if (step.kind === 'put') register.set(step.key, `v${i}`)
          return {
            id: `s${i}`, client: 'C', key: step.key, kind: step.kind,
            value: step.kind === 'put' ? `v${i}` : register.get(step.key),
            invokedAt: at - step.before, completedAt,
          }
        })
        expect(checkLinearizable(history)).toEqual({ ok: true })
      }),
      { numRuns: 300 },
    )
  })

  it('rejects those histories once a completed get reads a value written strictly after it', () => {
    fc.assert(
      fc.property(executions, (steps) => {
        const history: Operation[] = steps.map((step, i) => ({
          id: `s${i}`, client: 'C', key: 'k', kind: 'put', value: `v${i}`, invokedAt: i * 10, completedAt: i * 10 + 1,
        }))
        history.push({ id: 'late', client: 'C', key: 'k', kind: 'put', value: 'future', invokedAt: 10_000, completedAt: 10_001 })
        history.push({ id: 'early', client: 'C', key: 'k', kind: 'get', value: 'future', invokedAt: 0, completedAt: 5_000 })
        expect(checkLinearizable(history).ok).toBe(false)
      }),
      { numRuns: 100 },
    )
  })
})

describe('a long history on one key', () => {
  /** One client: put v0, get v0, put v1, get v1, ... each finishing before the next starts. */
  const sequential = (operations: number): Operation[] =>
    Array.from({ length: operations }, (_, i) => {
      const n = Math.floor(i / 2)
      return {
        id: `op${i}`,
        client: 'c',
        key: 'k',
        kind: i % 2 === 0 ? 'put' : 'get',
        value: `v${n}`,
        invokedAt: 2 * i,
        completedAt: 2 * i + 1,
      } satisfies Operation
    })

  it('checks 10,000 operations without running out of stack, both verdicts', () => {
    const history = sequential(10_000)
    expect(checkLinearizable(history)).toEqual({ ok: true })
    // The last get reads the value of the put before the last one: stale.
    const stale = history.map((op, i) => (i === history.length - 1 ? { ...op, value: `v${4_998}` } : op))
    expect(checkLinearizable(stale)).toMatchObject({ ok: false, key: 'k' })
  })
})

describe('operations at one instant', () => {
  const op = (id: string, kind: 'get' | 'put', value: string | undefined, seq: [number, number] | undefined): Operation => ({
    id,
    client: 'c',
    key: 'k',
    kind,
    value,
    invokedAt: 5,
    completedAt: 5,
    ...(seq === undefined ? {} : { invokedSeq: seq[0], completedSeq: seq[1] }),
  })

  it('without an order of events, equal times are concurrent: a get that misses a put at the same instant is accepted', () => {
    expect(checkLinearizable([op('p', 'put', 'v', undefined), op('g', 'get', undefined, undefined)])).toEqual({ ok: true })
  })

  it('with the order in which the simulation handled them, a put completed before the get began must be seen', () => {
    const put = op('p', 'put', 'v', [1, 2])
    expect(checkLinearizable([put, op('g', 'get', undefined, [3, 4])])).toMatchObject({ ok: false })
    expect(checkLinearizable([put, op('g', 'get', 'v', [3, 4])])).toEqual({ ok: true })
    // Overlapping in that order: either answer is linearizable.
    expect(checkLinearizable([op('p', 'put', 'v', [1, 4]), op('g', 'get', undefined, [2, 3])])).toEqual({ ok: true })
  })
})

describe('puts that never completed, as a crash leaves them', () => {
  /**
   * Four clients on one key, each writing a unique value and reading back; every third put of a
   * client never completes (its replica crashed) and the client goes on. Some later gets read the
   * value of such a put: it took effect after all.
   */
  const withLostPuts = (rounds: number): Operation[] => {
    const history: Operation[] = []
    let register: string | undefined
    for (let r = 0; r < rounds; r++) {
      for (let c = 0; c < 4; c++) {
        const t = r * 100 + c * 10
        const value = `v${r}-${c}`
        const lost = (r + c) % 3 === 0
        history.push(put('k', value, t, lost ? undefined : t + 15, `C${c}`))
        // A lost put takes effect for every fourth round's reader, else never.
        if (!lost || r % 4 === 0) register = value
        history.push(get('k', register, t + 20, t + 25, `C${c}`))
      }
    }
    return history
  }

  it('decides a long history with hundreds of them, some read later and most never, both verdicts', () => {
    const history = withLostPuts(300)
    expect(history.filter((op) => op.completedAt === undefined).length).toBeGreaterThan(300)
    expect(checkLinearizable(history)).toEqual({ ok: true })
    // A get near the end that reads a value overwritten long before: stale.
    const stale = [...history, get('k', 'v10-1', 300 * 100 + 5, 300 * 100 + 6, 'C9')]
    expect(checkLinearizable(stale)).toMatchObject({ ok: false, key: 'k' })
  })
})
