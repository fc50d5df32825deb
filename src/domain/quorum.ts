/** Majority arithmetic (§5.2, §5.3). */

/** How many members make a majority of a cluster of `size`. */
export const majority = (size: number): number => Math.floor(size / 2) + 1

/**
 * The largest value that at least a majority of `values` (one per cluster member) reach: with
 * match indexes, the highest index stored on a majority (§5.3); with acknowledgement times, the
 * latest moment a majority is known to have heard from the leader.
 */
export const quorumValue = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => b - a)
  return sorted[majority(values.length) - 1] ?? Number.NEGATIVE_INFINITY
}

/** Whether `count` members out of a cluster of `size` form a majority. */
export const isMajority = (count: number, size: number): boolean => count >= majority(size)
