import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashString, PersistentMap } from '../../src/domain/persistent-map'

/** Two distinct keys with the same 32-bit hash, found by search (the birthday bound makes it quick). */
const collidingPair = (): [string, string] => {
  const seen = new Map<number, string>()
  for (let i = 0; ; i++) {
    const key = `k${i}`
    const other = seen.get(hashString(key))
    if (other !== undefined) return [other, key]
    seen.set(hashString(key), key)
  }
}

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

describe('the persistent map', () => {
  it('behaves like a Map (set and delete), and every earlier version keeps its contents', () => {
    const key = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ...collidingPair()),
      fc.string({ maxLength: 3 }),
      fc.nat(5000).map((n) => `key-${n}`),
    )
    fc.assert(
      // A value of 3 deletes the key instead of setting it.
      fc.property(fc.array(fc.tuple(key, fc.nat(3)), { maxLength: 400 }), (puts) => {
        const versions: [PersistentMap<number>, Map<string, number>][] = []
        let map = PersistentMap.empty<number>()
        let model = new Map<string, number>()
        for (const [k, v] of puts) {
          if (v === 3) {
            const before = map
            map = map.delete(k)
            if (!model.has(k)) expect(map).toBe(before)
            model = new Map(model)
            model.delete(k)
          } else {
            map = map.set(k, v)
            model = new Map(model).set(k, v)
          }
          versions.push([map, model])
        }
        for (const [m, expected] of versions) {
          expect(m.size).toBe(expected.size)
          expect(m.toJSON()).toEqual(sorted(expected))
          expect(m.sortedKeys()).toEqual(sorted(expected).map(([k]) => k))
          expect(new Map(m.entries())).toEqual(expected)
          for (const [k] of puts) {
            expect(m.get(k)).toBe(expected.get(k))
            expect(m.has(k)).toBe(expected.has(k))
          }
        }
        expect(map.get('valueOf')).toBeUndefined()
      }),
      { numRuns: 100 },
    )
  })

  it('returns the same map when a key is set to the value it has', () => {
    const map = PersistentMap.empty<string>().set('k', 'v')
    expect(map.set('k', 'v')).toBe(map)
    expect(map.set('k', 'w')).not.toBe(map)
  })

  it('keeps keys whose hashes collide apart', () => {
    const [a, b] = collidingPair()
    expect(a).not.toBe(b)
    const one = PersistentMap.empty<string>().set(a, 'A')
    const both = one.set(b, 'B')
    expect([both.get(a), both.get(b), both.size]).toEqual(['A', 'B', 2])
    const updated = both.set(a, 'A2').set('another', 'x')
    expect([updated.get(a), updated.get(b), updated.get('another'), updated.size]).toEqual(['A2', 'B', 'x', 3])
    expect([one.get(b), one.size, both.get(a)]).toEqual([undefined, 1, 'A'])
    expect(updated.set(b, 'B')).toBe(updated)
  })

  it('lists its entries sorted by key in JSON, however they were inserted', () => {
    const forward = PersistentMap.empty<number>().set('b', 2).set('a', 1).set('c', 3)
    const backward = PersistentMap.empty<number>().set('c', 3).set('a', 1).set('b', 2)
    expect(JSON.stringify(forward)).toBe('[["a",1],["b",2],["c",3]]')
    expect(JSON.stringify(backward)).toBe(JSON.stringify(forward))
  })

  it('deletes keys whose hashes collide one at a time, and empties to a map like a new one', () => {
    const [a, b] = collidingPair()
    const both = PersistentMap.empty<string>().set(a, 'A').set(b, 'B').set('c', 'C')
    const withoutA = both.delete(a)
    expect([withoutA.get(a), withoutA.get(b), withoutA.size]).toEqual([undefined, 'B', 2])
    const empty = withoutA.delete(b).delete('c')
    expect([empty.size, empty.toJSON(), empty.has(b)]).toEqual([0, [], false])
    expect(JSON.stringify(empty.set('x', '1'))).toBe(JSON.stringify(PersistentMap.empty<string>().set('x', '1')))
    expect(both.size).toBe(3)
  })
})
