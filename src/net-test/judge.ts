/**
 * The history judged by the project's linearizability checker (src/history), and for a key that
 * is not linearizable, the smallest failing window (window.ts) described for a person.
 */
import { checkLinearizable, describeResult, type LinearizabilityResult } from '../history/linearizability'
import type { Operation } from '../history/operation'
import type { CheckerResult } from './verdict'
import { smallestFailingWindow } from './window'

const NS_PER_MS = 1e6

const at = (ns: number | undefined): string => (ns === undefined ? 'never' : `${(ns / NS_PER_MS / 1000).toFixed(3)}s`)

const describe = (op: Operation): string => {
  const what =
    op.kind === 'get'
      ? `read -> ${JSON.stringify(op.value ?? null)}`
      : op.kind === 'put'
        ? `write ${JSON.stringify(op.value)}`
        : `cas ${JSON.stringify(op.expected ?? null)} -> ${JSON.stringify(op.value)}`
  const outcome = op.failed === true ? 'fail' : op.completedAt === undefined ? 'info' : 'ok'
  return `process ${op.client} ${what}  [${at(op.invokedAt)} .. ${at(op.completedAt)}] ${outcome}`
}

const linearizable = (ops: readonly Operation[]): boolean => {
  const result: LinearizabilityResult = checkLinearizable(ops)
  // Undecided or a checker failure is no proof of a violation: the window search treats it as passing.
  return result.ok || result.verdict !== 'not linearizable'
}

/** Judges the history; for a violation, the smallest failing window of the failing key. */
export const judgeHistory = (operations: readonly Operation[], budgetMs = 10_000): CheckerResult => {
  const result = checkLinearizable(operations)
  if (result.ok) return { ok: true }
  if (result.verdict !== 'not linearizable') return { ok: false, verdict: result.verdict, key: result.key, reason: describeResult(result) }
  const keyOps = operations.filter((op) => op.key === result.key && op.failed !== true)
  const window = smallestFailingWindow(
    keyOps.map((op) => ({ ...op, writes: op.kind === 'get' ? undefined : op.value })),
    {
      linearizable,
      uncompleted: (op) => ({ ...op, completedAt: undefined }),
      syntheticWrite: (value, invokedAt, completedAt) => ({ id: 'initial', client: 'initial', key: result.key, kind: 'put' as const, value, writes: value, invokedAt, completedAt }),
      budgetMs,
    },
  )
  return {
    ok: false,
    verdict: result.verdict,
    key: result.key,
    reason: result.reason,
    ...(window === undefined
      ? {}
      : {
          window: {
            fromMs: window.from / NS_PER_MS,
            toMs: window.to / NS_PER_MS,
            // A read cut short by the window's end constrains nothing: it is not shown.
            operations: [...window.operations].filter((op) => op.kind !== 'get' || op.completedAt !== undefined).sort((a, b) => a.invokedAt - b.invokedAt).map(describe),
          },
        }),
  }
}
