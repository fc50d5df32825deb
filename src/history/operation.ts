/**
 * One operation of a client history on a key-value store, each key a register whose initial value
 * is empty (undefined). A logical request with all its retries is one operation: its interval runs
 * from the first attempt's sending to the first ok received.
 */

export type OperationKind = 'get' | 'put' | 'cas'

export interface Operation {
  id: string
  client: string
  key: string
  kind: OperationKind
  /**
   * A put's value; a completed get's value read (undefined: the key was empty); a cas's new value.
   * A get not yet completed has none.
   */
  value: string | undefined
  /** A cas only: the value it compares the register with (undefined: the register must be empty). */
  expected?: string | undefined
  invokedAt: number
  /** Undefined while no reply came: the operation may or may not take effect, at any time after its invocation. */
  completedAt: number | undefined
  /**
   * Completed with a definite failure (Jepsen's `fail`: a cas whose comparison failed, a request
   * refused): it did not take effect, and the checker leaves it out.
   */
  failed?: boolean
  /**
   * Where a simulation in virtual time knows the order of events at one instant (a reply handled,
   * then a request sent at the same `now`), the positions of the invocation and the completion in
   * that order. Real-time order then compares these, so that equal times are not taken for
   * concurrency; without them it compares the times.
   */
  invokedSeq?: number
  completedSeq?: number
}

/** A one-line description of an operation, for reports. */
export function describeOperation(op: Operation, origin = 0): string {
  const time = (t: number | undefined): string => (t === undefined ? 'never' : `${(t - origin).toFixed(4)}s`)
  const value = op.value === undefined ? '(none)' : op.value
  const what =
    op.kind === 'put'
      ? `put(${op.key}) wrote ${value}`
      : op.kind === 'get'
        ? `get(${op.key}) read ${value}`
        : `cas(${op.key}) ${op.expected ?? '(none)'} -> ${value}`
  return `${op.id} ${op.client} ${what} invoked ${time(op.invokedAt)} completed ${time(op.completedAt)}${op.failed === true ? ' (failed)' : ''}`
}

/**
 * Each operation's invocation and completion as points of real time (completion +Infinity for one
 * that never completed). Operation a precedes b when a's completion is strictly before b's
 * invocation; equal points are concurrent. Where every operation carries its positions in the
 * simulation's order of events, those are the points (distinct, so nothing at one instant is
 * taken for concurrent); otherwise the times are.
 */
export const realTimePoints = (operations: readonly Operation[]): { readonly invocation: number[]; readonly completion: number[] } => {
  const sequenced = operations.every((op) => op.invokedSeq !== undefined && (op.completedAt === undefined || op.completedSeq !== undefined))
  return {
    invocation: operations.map((op) => (sequenced ? op.invokedSeq! : op.invokedAt)),
    completion: operations.map((op) =>
      op.completedAt === undefined ? Number.POSITIVE_INFINITY : sequenced ? op.completedSeq! : op.completedAt,
    ),
  }
}

/** An operation of the simulations' clients, which send only gets and puts. */
export type KvOperation = Operation & { kind: 'get' | 'put' }
