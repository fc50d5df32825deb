/**
 * The history judged by the project's linearizability checker, key by key, and for a key that
 * fails, the smallest failing window (window.ts) described for a person.
 *
 * The checker of src/check knows reads and writes. A compare-and-set that succeeded is given to it
 * as a write of its new value: that drops the comparison (a weaker check, never a false alarm: a
 * history that fails with the comparison dropped fails with it too). A cas that failed changed
 * nothing and is left out, as is a write that failed; an `info` write or cas may or may not have
 * taken effect (not completed).
 */
import { checkLinearizable, type Operation } from '../check/linearizability'
import { pairOperations, type HistoryEvent, type PairedOperation } from './history'
import type { CheckerResult } from './verdict'
import { smallestFailingWindow } from './window'

const NS_PER_MS = 1e6

type Op = Operation & { readonly writes: string | undefined }

const toOperation = (paired: PairedOperation, index: number): Op | undefined => {
  const { invoke, completion } = paired
  const type = completion?.type
  if (type === 'fail') return undefined
  const invokedAt = invoke.time / NS_PER_MS
  const completedAt = type === 'ok' ? completion!.time / NS_PER_MS : undefined
  const base = { id: `op${index}`, client: String(invoke.process), key: invoke.key, invokedAt, completedAt }
  if (invoke.f === 'read') {
    if (type !== 'ok') return undefined
    const v = completion!.value
    return { ...base, kind: 'get', value: typeof v === 'string' ? v : undefined, writes: undefined }
  }
  const written = invoke.f === 'write' ? (invoke.value as string) : (invoke.value as readonly [string | null, string])[1]
  return { ...base, kind: 'put', value: written, writes: written }
}

const describe = (op: Op, events: readonly PairedOperation[]): string => {
  const paired = events[Number(op.id.slice(2))]
  const at = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(3)}s`)
  if (paired === undefined) return `(the value ${JSON.stringify(op.value)} as the window starts)`
  const { invoke, completion } = paired
  const what = invoke.f === 'read' ? `read -> ${JSON.stringify(completion?.value ?? null)}` : invoke.f === 'write' ? `write ${JSON.stringify(invoke.value)}` : `cas ${JSON.stringify(invoke.value)}`
  return `process ${invoke.process} ${what}  [${at(op.invokedAt)} .. ${at(op.completedAt)}] ${completion?.type ?? 'open'}`
}

/** Judges the history; for a violation, the smallest failing window of the failing key. */
export const judgeHistory = (events: readonly HistoryEvent[], budgetMs = 10_000): CheckerResult => {
  const paired = pairOperations(events)
  const ops = paired.flatMap((p, i) => {
    const op = toOperation(p, i)
    return op === undefined ? [] : [op]
  })
  const result = checkLinearizable(ops)
  if (result.ok) return { ok: true }
  const keyOps = ops.filter((op) => op.key === result.key)
  const window = smallestFailingWindow<Op>(keyOps, {
    linearizable: (some) => checkLinearizable(some).ok,
    uncompleted: (op) => ({ ...op, completedAt: undefined }),
    syntheticWrite: (value, invokedAt, completedAt) => ({ id: 'initial', client: 'initial', key: result.key, kind: 'put', value, writes: value, invokedAt, completedAt }),
    budgetMs,
  })
  return {
    ok: false,
    key: result.key,
    reason: result.reason,
    ...(window === undefined
      ? {}
      : {
          window: {
            fromMs: window.from,
            toMs: window.to,
            // A read cut short by the window's end constrains nothing: it is not shown.
            operations: [...window.operations].filter((op) => op.kind === 'put' || op.completedAt !== undefined).sort((a, b) => a.invokedAt - b.invokedAt).map((op) => describe(op, paired)),
          },
        }),
  }
}
