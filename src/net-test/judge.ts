/**
 * The history judged by the project's linearizability checker (src/history), and for a key that
 * is not linearizable, the smallest failing window (window.ts) described for a person.
 */
import { checkLinearizable, describeResult, type LinearizabilityResult } from '../history/linearizability'
import type { Operation } from '../history/operation'
import type { CheckerResult } from './verdict'
import { smallestFailingWindow } from './window'

const NS_PER_S = 1e9

const at = (s: number | undefined): string => (s === undefined ? 'never' : `${s.toFixed(3)}s`)

/**
 * The history's times (nanoseconds from the start, docs/history.md) in seconds, as the checker's
 * reports print them. Dividing by one constant keeps every order and every tie.
 */
const inSeconds = (op: Operation): Operation => ({ ...op, invokedAt: op.invokedAt / NS_PER_S, completedAt: op.completedAt === undefined ? undefined : op.completedAt / NS_PER_S })

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

const shown = (ops: readonly Operation[]): { operations: string[]; ids: string[] } => ({ operations: ops.map(describe), ids: ops.map((op) => op.id) })

/** Judges the history; for a violation, the smallest failing window of the failing key. */
export const judgeHistory = (history: readonly Operation[], budgetMs = 10_000): CheckerResult => {
  const operations = history.map(inSeconds)
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
            fromMs: window.from * 1000,
            toMs: window.to * 1000,
            // A read cut short by the window's end constrains nothing: it is not shown.
            ...shown([...window.operations].filter((op) => op.kind !== 'get' || op.completedAt !== undefined).sort((a, b) => a.invokedAt - b.invokedAt)),
          },
        }),
  }
}
