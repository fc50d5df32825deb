/**
 * The smallest failing window of a key's history that is not linearizable: a stretch [from, to]
 * whose operations fail on their own, so that a person reads a dozen operations instead of
 * thousands.
 *
 * The end: the earliest time T such that the history cut at T (operations invoked by T; those that
 * completed after T count as not completed) already fails. Failure only grows with T (a later cut
 * adds operations and completions, each a constraint), so T is found by bisection.
 *
 * The start: the latest cut C before T that no completed operation spans (each completed operation
 * either completed before C or was invoked after it). Every operation completed before C precedes,
 * in any linearization, every operation invoked after C, so the register's value at C is whatever
 * the earlier ones left: the initial value or a value written before C. The window [C, T] is the
 * operations invoked after C, the uncompleted writes invoked before it, and a synthetic write of
 * a value v completed at C; it is a witness when it fails for every such v. (If the whole history
 * had a linearization, the value it leaves at C is one of the v tried, and the window's operations
 * in that order would linearize the window with it.)
 */

export interface WindowOperation {
  readonly invokedAt: number
  /** Undefined: never completed (a write may or may not have taken effect). */
  readonly completedAt: number | undefined
  /** The value it wrote (a write or a cas), if it writes. */
  readonly writes: string | undefined
}

export interface WindowSearch<Op extends WindowOperation> {
  /** Whether the operations (one key's) are linearizable from the empty register. */
  readonly linearizable: (ops: readonly Op[]) => boolean
  /** The operation as not completed (a cut through its interval). */
  readonly uncompleted: (op: Op) => Op
  /** A completed write of `value` over [invokedAt, completedAt]. */
  readonly syntheticWrite: (value: string, invokedAt: number, completedAt: number) => Op
  /** Stop trying starts after this long (the prefix alone is then the window). */
  readonly budgetMs?: number
}

export interface FailingWindow<Op> {
  readonly from: number
  readonly to: number
  readonly operations: readonly Op[]
}

const cutAt = <Op extends WindowOperation>(ops: readonly Op[], t: number, search: WindowSearch<Op>): Op[] =>
  ops.filter((op) => op.invokedAt <= t).map((op) => (op.completedAt !== undefined && op.completedAt > t ? search.uncompleted(op) : op))

/** Finds the window, or undefined when the operations are linearizable after all. */
export const smallestFailingWindow = <Op extends WindowOperation>(ops: readonly Op[], search: WindowSearch<Op>): FailingWindow<Op> | undefined => {
  if (search.linearizable(ops)) return undefined
  const ends = [...new Set(ops.flatMap((op) => (op.completedAt === undefined ? [op.invokedAt] : [op.invokedAt, op.completedAt])))].sort((a, b) => a - b)
  // The earliest failing end: ends[hi] fails; ends[lo - 1] does not (or lo = 0).
  let lo = 0
  let hi = ends.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (search.linearizable(cutAt(ops, ends[mid]!, search))) lo = mid + 1
    else hi = mid
  }
  const to = ends[hi]!
  const prefix = cutAt(ops, to, search)
  const best: FailingWindow<Op> = { from: Math.min(...prefix.map((op) => op.invokedAt)), to, operations: prefix }

  const deadline = Date.now() + (search.budgetMs ?? 5_000)
  const completed = prefix.filter((op) => op.completedAt !== undefined)
  // Cuts: just after each completion, latest first, where no completed operation spans the cut.
  const cuts = [...new Set(completed.map((op) => op.completedAt!))]
    .filter((c) => c < to && completed.every((op) => op.completedAt! <= c || op.invokedAt > c))
    .sort((a, b) => b - a)
  for (const c of cuts) {
    if (Date.now() > deadline) break
    const before = prefix.filter((op) => op.invokedAt <= c)
    const inside = prefix.filter((op) => op.invokedAt > c || (op.completedAt === undefined && op.writes !== undefined))
    const values = [undefined, ...new Set(before.flatMap((op) => (op.writes === undefined ? [] : [op.writes])))]
    const earliest = Math.min(c, ...inside.map((op) => op.invokedAt))
    const witness = values.every((v) => !search.linearizable(v === undefined ? inside : [search.syntheticWrite(v, earliest - 2, c), ...inside]))
    if (witness) return { from: c, to, operations: inside }
  }
  return best
}
