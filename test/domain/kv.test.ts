import { describe, expect, it } from 'vitest'
import * as E from 'fp-ts/Either'
import { applyCommand, decodeSnapshot, emptyKv, encodeSnapshot, hasApplied, MID_GENERATION, midsOf, read, valuesOf } from '../../src/domain/kv'
import type { NodeId } from '../../src/domain/wire'

const put = (key: string, value: string, MID: string) =>
  ({ op: 'put', key, value, client: '0015' as NodeId, MID }) as const

describe('the key-value state machine', () => {
  it('applies puts in order, the last one winning', () => {
    const kv = [put('k', 'a', 'm1'), put('k', 'b', 'm2')].reduce(applyCommand, emptyKv)
    expect(read(kv, 'k')).toBe('b')
  })

  it('applies a put whose MID was applied already at most once', () => {
    const kv = [put('k', 'a', 'm1'), put('k', 'b', 'm2')].reduce(applyCommand, emptyKv)
    const again = applyCommand(kv, put('k', 'a', 'm1'))
    expect(read(again, 'k')).toBe('b')
    // The very same store: applyCommitted tells a first application by this.
    expect(again).toBe(kv)
  })

  it('leaves the store alone on a no-op', () => {
    expect(applyCommand(emptyKv, { op: 'noop' })).toBe(emptyKv)
  })

  it('leaves the stores it was applied to unchanged', () => {
    const first = applyCommand(emptyKv, put('k', 'a', 'm1'))
    const second = applyCommand(first, put('k', 'b', 'm2'))
    expect(read(first, 'k')).toBe('a')
    expect(hasApplied(first, 'm2')).toBe(false)
    expect(read(second, 'k')).toBe('b')
    expect(read(emptyKv, 'k')).toBeUndefined()
  })

  it('treats keys and MIDs named like built-in properties as ordinary strings', () => {
    expect(read(emptyKv, 'constructor')).toBeUndefined()
    expect(hasApplied(emptyKv, 'toString')).toBe(false)
    const kv = [put('__proto__', 'a', 'constructor'), put('constructor', 'b', '__proto__')].reduce(applyCommand, emptyKv)
    expect(read(kv, '__proto__')).toBe('a')
    expect(read(kv, 'constructor')).toBe('b')
    expect(hasApplied(kv, 'constructor') && hasApplied(kv, '__proto__')).toBe(true)
    expect(read(kv, 'toString')).toBeUndefined()
    expect(hasApplied(kv, 'hasOwnProperty')).toBe(false)
    expect(valuesOf(kv)).toEqual({ ['__proto__']: 'a', constructor: 'b' })
  })

  it('remembers a MID for at least MID_GENERATION later puts, and at most two generations of MIDs in all', () => {
    let kv = emptyKv
    for (let i = 0; i < 2 * MID_GENERATION + 1; i++) kv = applyCommand(kv, put(`k${i % 7}`, `v${i}`, `m${i}`))
    // Generations: m0.. filled the first, m50000.. the second, and m100000 started a third.
    const { recent, older } = midsOf(kv)
    expect(recent).toEqual([`m${2 * MID_GENERATION}`])
    expect(older).toHaveLength(MID_GENERATION)
    expect(hasApplied(kv, `m${MID_GENERATION}`)).toBe(true)
    expect(hasApplied(kv, `m${MID_GENERATION - 1}`)).toBe(false)
    // A retry of a put still remembered changes nothing; one forgotten is applied again.
    expect(applyCommand(kv, put('k0', 'late', `m${MID_GENERATION}`))).toBe(kv)
    expect(read(applyCommand(kv, put('k0', 'late', 'm0')), 'k0')).toBe('late')
  })

  // §7: the snapshot is the state machine's state; the same store gives the same text.
  it("a snapshot is the store's values and both generations of MIDs, sorted, and reads back as the same store", () => {
    let kv = emptyKv
    for (let i = 0; i < MID_GENERATION + 3; i++) kv = applyCommand(kv, put(`k${(i * 7) % 5}`, `v${i}`, `m${(i * 7919) % 100_003}`))
    const later = applyCommand(kv, put('k9', 'last', 'the last MID'))
    for (const store of [kv, later]) {
      const { recent, older } = midsOf(store)
      const values = Object.entries(valuesOf(store)).sort(([a], [b]) => (a < b ? -1 : 1))
      expect(encodeSnapshot(store)).toBe(JSON.stringify({ values, recentMids: recent, olderMids: older }))
      const back = decodeSnapshot(encodeSnapshot(store))
      expect(E.isRight(back) && encodeSnapshot(back.right)).toBe(encodeSnapshot(store))
    }
  })
})
