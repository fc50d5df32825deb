/**
 * Which operation makes a key's history non-linearizable: the history cut at time t (operations
 * invoked after t left out, those completing after t treated as still pending) only gets harder
 * to linearize as t grows, so a binary search over the completion times finds the first one at
 * which no linearization exists. The operation completing then is the offending one: before its
 * reply arrived, everything could still be explained.
 */
import { checkLinearizable, type Operation } from '../history/linearizability'
import type { FailureOperation } from './model'

/** The operation whose completion first makes `operations` (one key's) non-linearizable; undefined if none does. */
export function offendingOperation(operations: readonly Operation[]): Operation | undefined {
  const completed = operations
    .filter((op) => op.completedAt !== undefined)
    .sort((a, b) => a.completedAt! - b.completedAt!)
  if (completed.length === 0 || !violated(operations)) return undefined
  let lo = 0 // cutting at completed[hi] fails; find the smallest such index
  let hi = completed.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (!violated(cutAt(operations, completed[mid]!.completedAt!))) lo = mid + 1
    else hi = mid
  }
  return completed[lo]
}

/** Whether the checker finds no linearization (undecided, or a checker that failed, blames nobody). */
const violated = (operations: readonly Operation[]): boolean => {
  const result = checkLinearizable(operations)
  return !result.ok && result.verdict === 'not linearizable'
}

/** The history as it stood at time t. */
export function cutAt(operations: readonly Operation[], t: number): Operation[] {
  const cut: Operation[] = []
  for (const op of operations) {
    if (op.invokedAt > t) continue
    if (op.completedAt !== undefined && op.completedAt <= t) cut.push(op)
    else cut.push({ ...op, completedAt: undefined, value: op.kind === 'get' ? undefined : op.value })
  }
  return cut
}

/** An operation as the failure panel draws it; `scale` turns its times into milliseconds. */
export function toFailureOperation(op: Operation, scale = 1): FailureOperation {
  return {
    id: op.id,
    client: op.client,
    kind: op.kind,
    value: op.value ?? null,
    from: op.invokedAt * scale,
    to: op.completedAt === undefined ? null : op.completedAt * scale,
  }
}
