import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { decodeOrExplain } from '../../src/decoding/report'

const Count = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1')
const Pair = t.tuple([t.number, t.number], 'two numbers [low, high]')
const Codec = t.intersection(
  [t.type({ count: Count, range: Pair, inner: t.type({ name: t.string }, 'an object with a name') }), t.partial({ tags: t.array(t.string) })],
  'a demo file',
)

const problems = (value: unknown): string[] => {
  const decoded = decodeOrExplain(Codec, value)
  return E.isLeft(decoded) ? decoded.left : []
}

describe('the io-ts reporter: the field, the value, what is expected', () => {
  it('accepts what fits', () => {
    expect(decodeOrExplain(Codec, { count: 2, range: [1, 2], inner: { name: 'x' } })).toEqual(E.right({ count: 2, range: [1, 2], inner: { name: 'x' } }))
  })

  it('names a missing field once, by the name written for it, not once per branch of an intersection', () => {
    expect(problems({ count: 2, range: [1, 2] })).toEqual(['field "inner": missing; expected an object with a name'])
  })

  it('names a wrong value by its field path, with the value and the refinement\'s words', () => {
    expect(problems({ count: 0, range: [1, 2], inner: { name: 3 }, tags: ['a', 5] })).toEqual([
      'field "count": expected a whole number of at least 1, got 0',
      'field "inner.name": expected string, got 3',
      'field "tags.1": expected string, got 5',
    ])
  })

  it('reports a short tuple at the tuple, with the tuple as found', () => {
    expect(problems({ count: 1, range: [1], inner: { name: 'x' } })).toEqual(['field "range": expected two numbers [low, high], got [1]'])
  })

  it('names the whole file when it is not an object at all', () => {
    expect(problems([1, 2])).toEqual(['the file: expected a demo file, got [1,2]'])
  })

  it('reports an error inside a union at the union, whose branch is not known', () => {
    const Event = t.union([t.type({ at: t.number, started: t.literal(true) }), t.type({ at: t.number, timer: t.string })], 'an event with at and started or timer')
    const decoded = decodeOrExplain(t.type({ event: Event }), { event: { at: 1 } })
    expect(decoded).toEqual(E.left(['field "event": expected an event with at and started or timer, got {"at":1}']))
  })

  it('stops after eight fields, saying how many more', () => {
    const Many = t.type(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, t.number])))
    const decoded = decodeOrExplain(Many, {})
    expect(E.isLeft(decoded) && decoded.left).toHaveLength(9)
    expect(E.isLeft(decoded) && decoded.left[8]).toBe('(and 2 more)')
  })
})
