import { describe, expect, it } from 'vitest'
import { checkLinearizable, type Operation } from '../../src/check/linearizability'
import { cutAt, offendingOperation } from '../../src/timeline/blame'

let n = 0
const op = (kind: 'get' | 'put', value: string | undefined, invokedAt: number, completedAt: number | undefined): Operation =>
  ({ id: `op${n++}`, client: 'c', key: 'k', kind, value, invokedAt, completedAt })

describe('the offending operation of a non-linearizable key', () => {
  it('is the one whose reply first makes the history impossible', () => {
    const history = [
      op('put', 'a', 0, 10),
      op('get', 'a', 12, 14),
      op('put', 'b', 20, 30),
      op('get', 'b', 32, 34),
      op('get', 'a', 40, 42), // stale: b was written before it began
      op('get', 'b', 50, 52),
    ]
    expect(checkLinearizable(history).ok).toBe(false)
    expect(offendingOperation(history)?.id).toBe(history[4]!.id)
  })

  it('a read of a value never written is offending at once; a history that is linearizable has none', () => {
    const bad = [op('put', 'a', 0, 10), op('get', 'zzz', 11, 12), op('get', 'a', 13, 14)]
    expect(offendingOperation(bad)?.id).toBe(bad[1]!.id)
    const good = [op('put', 'a', 0, 10), op('put', 'b', 5, undefined), op('get', 'b', 20, 21), op('get', 'b', 22, 23)]
    expect(offendingOperation(good)).toBeUndefined()
  })

  it('cutting at t keeps what had completed and leaves the rest pending (gets unread)', () => {
    const history = [op('put', 'a', 0, 10), op('get', 'a', 5, 20), op('put', 'b', 30, 40)]
    const cut = cutAt(history, 15)
    expect(cut.map((o) => [o.kind, o.value, o.completedAt])).toEqual([['put', 'a', 10], ['get', undefined, undefined]])
  })
})
