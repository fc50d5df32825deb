/**
 * A linearizability checker for a key-value history, one register per key (initial value undefined).
 *
 * Each key is checked on its own: linearizability is compositional (Herlihy & Wing, 1990, the
 * locality theorem; Horn & Kroening's P-compositionality applies it to the keys of a map). Per key
 * it runs the search of register-search.ts.
 *
 * Rules of the history:
 * - a put that never completed may take effect at any time after its invocation, or never;
 * - a get that never completed is ignored;
 * - a completed get must return the register's value at its linearization point.
 */

import { searchRegister } from './register-search'

export interface Operation {
  id: string
  client: string
  key: string
  kind: 'get' | 'put'
  value: string | undefined
  invokedAt: number
  completedAt: number | undefined
  /**
   * Where a simulation in virtual time knows the order of events at one instant (a reply handled,
   * then a request sent at the same `now`), the positions of the invocation and the completion in
   * that order. Real-time order then compares these, so that equal times are not taken for
   * concurrency; without them it compares the times.
   */
  invokedSeq?: number
  completedSeq?: number
}

export type LinearizabilityResult =
  | { ok: true }
  | { ok: false; key: string; operations: Operation[]; reason: string }

export function checkLinearizable(history: readonly Operation[]): LinearizabilityResult {
  for (const [key, operations] of groupByKey(history)) {
    const result = searchRegister(withoutUnreadPendingPuts(operations))
    if (!result.ok) {
      return { ok: false, key, operations, reason: result.reason }
    }
  }
  return { ok: true }
}

/**
 * A put that never completed may also never take effect; when no completed get reads its value,
 * leaving it out is always a valid choice (a register that never held a value nobody read reads
 * the same), so the search need not consider it at all.
 */
const withoutUnreadPendingPuts = (operations: readonly Operation[]): Operation[] => {
  const read = new Set(operations.filter((op) => op.kind === 'get').map((op) => op.value))
  return operations.filter((op) => op.kind === 'get' || op.completedAt !== undefined || read.has(op.value))
}

function groupByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>()
  for (const operation of history) {
    if (operation.kind === 'get' && operation.completedAt === undefined) continue
    const list = byKey.get(operation.key)
    if (list) list.push(operation)
    else byKey.set(operation.key, [operation])
  }
  for (const list of byKey.values()) list.sort((a, b) => a.invokedAt - b.invokedAt || (a.invokedSeq ?? 0) - (b.invokedSeq ?? 0))
  return byKey
}

/** A one-line description of an operation, for reports. */
export function describeOperation(op: Operation, origin = 0): string {
  const time = (t: number | undefined): string => (t === undefined ? 'never' : `${(t - origin).toFixed(4)}s`)
  const value = op.value === undefined ? '(none)' : op.value
  return `${op.id} ${op.client} ${op.kind}(${op.key}) ${op.kind === 'put' ? 'wrote' : 'read'} ${value} ` +
    `invoked ${time(op.invokedAt)} completed ${time(op.completedAt)}`
}
