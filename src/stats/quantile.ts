/**
 * The one quantile of the project: the nearest-rank upper quantile, the sample at index
 * `min(n − 1, floor(q · n))` of the sorted samples. For q = 0.5 that is the element at
 * `floor(n / 2)`, the median the course's simulator scores (`latencies[len(latencies)//2]`), so a
 * median computed anywhere here (kvsim's score, the timeline's header, the benches) is the same
 * figure for the same samples. Every median, p90 and p99 of the project comes from here.
 */

/** The q-quantile (0 ≤ q ≤ 1) of samples already sorted ascending; undefined when there are none. */
export const quantileOfSorted = (sorted: readonly number[], q: number): number | undefined =>
  sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(sorted.length * q)))]

/** Sorts a copy of the samples ascending (numerically). */
export const sortedAscending = (samples: readonly number[]): number[] => [...samples].sort((a, b) => a - b)

/** The q-quantile of samples in any order; undefined when there are none. */
export const quantile = (samples: readonly number[], q: number): number | undefined =>
  quantileOfSorted(sortedAscending(samples), q)

/** The upper median: the element at index floor(n / 2) of the sorted samples. */
export const median = (samples: readonly number[]): number | undefined => quantile(samples, 0.5)
