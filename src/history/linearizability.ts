/**
 * A linearizability checker for a key-value history, one register per key (initial value empty).
 *
 * Each key is checked on its own: linearizability is compositional (Herlihy & Wing, 1990, the
 * locality theorem; Horn & Kroening's P-compositionality applies it to the keys of a map). A key
 * whose puts each write their own value (every workload of the project) is decided by the
 * read-mapping algorithm (read-mapping.ts) in O(n log n); any other (a cas, a value written twice)
 * by the bounded search of register-search.ts.
 *
 * Rules of the history:
 * - a put or cas that never completed may take effect at any time after its invocation, or never;
 * - a get that never completed is ignored, and so is an operation that failed (it did not happen);
 * - a completed get must return the register's value at its linearization point, and a completed
 *   cas must find there the value it expected.
 *
 * The verdict is one of four: linearizable; not linearizable, with the reason; undecided, when the
 * search reached its bound (the reason says which); and "the checker failed", when the checker
 * itself threw (a defect of the checker, never a property of the history), with its cause.
 */
import type { Operation } from './operation'
import { checkByReadMapping } from './read-mapping'
import { defaultSearchLimits, searchRegister, withoutUnobservedPendingWrites, type SearchLimits } from './register-search'

export { describeOperation, type Operation } from './operation'
export { defaultSearchLimits, type SearchLimits } from './register-search'

export type Verdict = 'not linearizable' | 'undecided' | 'checker failed'

export type LinearizabilityResult =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly verdict: Verdict
      /** The key judged (for "checker failed", the key being checked when it failed). */
      readonly key: string
      /** That key's operations. */
      readonly operations: Operation[]
      readonly reason: string
    }

/** The invariant a simulation reports for each verdict other than linearizable. */
export const invariantOf = (verdict: Verdict): string =>
  verdict === 'not linearizable' ? 'Linearizability' : verdict === 'undecided' ? LINEARIZABILITY_UNDECIDED : CHECKER_FAILED

/** Whether a failure's invariant is the checker's own verdict on itself (undecided, failed): nothing the replicas violated. */
export const isCheckerVerdict = (invariant: string): boolean => invariant === LINEARIZABILITY_UNDECIDED || invariant === CHECKER_FAILED

/** Not a property of the replicas: the checker could not decide within its bounds. */
export const LINEARIZABILITY_UNDECIDED = 'Linearizability undecided'
/** Not a property of the replicas: the checker (or the worker that ran it) threw. */
export const CHECKER_FAILED = 'The checker failed'

/**
 * Checks every key; reports a key that is not linearizable if there is one, else the first key
 * left undecided or on which the checker failed.
 */
export function checkLinearizable(history: readonly Operation[], limits: SearchLimits = defaultSearchLimits): LinearizabilityResult {
  let unsure: LinearizabilityResult | undefined
  let current: { key: string; operations: Operation[] } = { key: '', operations: [] }
  try {
    for (const [key, operations] of groupByKey(history)) {
      current = { key, operations }
      const verdict = checkKey(operations, limits)
      if (verdict.kind === 'linearizable') continue
      const result = { ok: false as const, verdict: verdict.kind, key, operations, reason: verdict.reason }
      if (verdict.kind === 'not linearizable') return result
      unsure ??= result
    }
  } catch (error) {
    const cause = error instanceof Error ? (error.stack ?? error.message) : String(error)
    return { ok: false, verdict: 'checker failed', ...current, reason: `the checker failed: ${cause}` }
  }
  return unsure ?? { ok: true }
}

type KeyVerdict = { readonly kind: 'linearizable' } | { readonly kind: 'not linearizable' | 'undecided'; readonly reason: string }

/** One key's operations (sorted by invocation, none failed, gets all completed). */
const checkKey = (operations: readonly Operation[], limits: SearchLimits): KeyVerdict => {
  const fast = checkByReadMapping(operations)
  if (fast.kind !== 'not applicable') return fast
  return searchRegister(withoutUnobservedPendingWrites(operations), limits)
}

function groupByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>()
  for (const operation of history) {
    if (operation.kind === 'get' && operation.completedAt === undefined) continue
    if (operation.failed === true) continue
    const list = byKey.get(operation.key)
    if (list) list.push(operation)
    else byKey.set(operation.key, [operation])
  }
  for (const list of byKey.values()) list.sort((a, b) => a.invokedAt - b.invokedAt || (a.invokedSeq ?? 0) - (b.invokedSeq ?? 0))
  return byKey
}

/** The result in a line or a few, for reports: the verdict, the key and the reason. */
export const describeResult = (result: LinearizabilityResult): string =>
  result.ok ? 'linearizable' : `${result.verdict}: key ${result.key}: ${result.reason}`
