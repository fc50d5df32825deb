import { describe, expect, it } from 'vitest'
import { median, quantile, quantileOfSorted } from '../../src/stats/quantile'

describe('quantile: the nearest-rank upper quantile, sorted[min(n - 1, floor(q * n))]', () => {
  it('is undefined for no samples', () => {
    expect(quantile([], 0.5)).toBeUndefined()
    expect(median([])).toBeUndefined()
  })

  it('takes the median at index floor(n / 2), as the course simulator scores it', () => {
    expect(median([3])).toBe(3)
    expect(median([4, 1])).toBe(4)
    expect(median([5, 1, 3])).toBe(3)
    expect(median([1, 2, 3, 4])).toBe(3)
  })

  it('sorts numerically, not as text', () => {
    expect(median([10, 9, 100])).toBe(10)
  })

  it('takes p99 of 100 samples at index 99 and of 1,000 at index 990', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i)
    const thousand = Array.from({ length: 1000 }, (_, i) => i)
    expect(quantile(hundred, 0.99)).toBe(99)
    expect(quantile(thousand, 0.99)).toBe(990)
    expect(quantile(thousand, 0.9)).toBe(900)
  })

  it('keeps q = 0 and q = 1 inside the samples', () => {
    expect(quantileOfSorted([1, 2, 3], 0)).toBe(1)
    expect(quantileOfSorted([1, 2, 3], 1)).toBe(3)
  })

  it('does not reorder the caller\'s samples', () => {
    const samples = [3, 1, 2]
    quantile(samples, 0.5)
    expect(samples).toEqual([3, 1, 2])
  })
})
