/** Majority arithmetic (§5.2, §5.3). */
import type { NodeId } from './wire'

/** How many members make a majority of a cluster of `size`. */
export const majority = (size: number): number => Math.floor(size / 2) + 1

/**
 * The largest value that at least a majority of `values` (one per cluster member) reach: with
 * match indexes, the highest index stored on a majority (§5.3); with acknowledgement times, the
 * latest moment a majority is known to have heard from the leader.
 */
export const quorumValue = (values: readonly number[]): number => {
  const needed = majority(values.length)
  let largest = Number.NEGATIVE_INFINITY
  for (let i = 0; i < values.length; i++) {
    const candidate = values[i]!
    if (candidate <= largest) continue
    let reaching = 0
    for (let j = 0; j < values.length; j++) if (values[j]! >= candidate) reaching++
    if (reaching >= needed) largest = candidate
  }
  return largest
}

/** Whether `count` members out of a cluster of `size` form a majority. */
export const isMajority = (count: number, size: number): boolean => count >= majority(size)

/**
 * Thesis ch. 4: majorities are of the configuration's voters only. Learners never count, and a
 * leader that is not a voter of its configuration (it is removing itself, §4.2.2) does not count
 * itself. `valueOf` gives each voter's value (the leader's own included).
 */
export const quorumValueOf = (voters: readonly NodeId[], valueOf: (voter: NodeId) => number): number => {
  const values = new Array<number>(voters.length)
  for (let i = 0; i < voters.length; i++) values[i] = valueOf(voters[i]!)
  return quorumValue(values)
}

/** Whether the members in `granted` include a majority of `voters` (votes of anyone else do not count). */
export const isMajorityOf = (voters: readonly NodeId[], granted: readonly NodeId[]): boolean => {
  let count = 0
  for (const id of granted) if (voters.includes(id)) count++
  return isMajority(count, voters.length)
}
