/**
 * A run's client history in the shape Jepsen's checkers read (and Porcupine and Knossos after
 * them), one JSON object a line: an `invoke` line when a client sends a request and an `ok` line
 * when its first ok arrives, with `process` (the client, as a number), `f` (`read` or `write`),
 * `key`, `value` (a read's invocation has none) and `time` in nanoseconds. An operation that never
 * completed ends with an `info` line at the history's last time: it may or may not have happened.
 * Redirects and retries are one operation, as the linearizability checker sees them.
 */
import * as fs from 'node:fs'
import type { Operation } from './linearizability'

export interface JepsenEvent {
  readonly process: number
  readonly type: 'invoke' | 'ok' | 'info'
  readonly f: 'read' | 'write'
  readonly key: string
  readonly value: string | null
  readonly time: number
}

/** The history's events in time order (ties in the order the run handled them). `unitNs` is nanoseconds per unit of the operations' times. */
export const jepsenEvents = (operations: readonly Operation[], unitNs: number): JepsenEvent[] => {
  const end = Math.max(0, ...operations.map((op) => op.completedAt ?? op.invokedAt))
  const timed: Array<{ readonly at: number; readonly seq: number; readonly event: JepsenEvent }> = []
  for (const op of operations) {
    const base = { process: Number.parseInt(op.client, 16), f: op.kind === 'put' ? ('write' as const) : ('read' as const), key: op.key }
    const written = op.kind === 'put' ? (op.value ?? null) : null
    timed.push({ at: op.invokedAt, seq: op.invokedSeq ?? 0, event: { ...base, type: 'invoke', value: written, time: Math.round(op.invokedAt * unitNs) } })
    if (op.completedAt !== undefined) {
      const value = op.kind === 'put' ? written : (op.value ?? null)
      timed.push({ at: op.completedAt, seq: op.completedSeq ?? 0, event: { ...base, type: 'ok', value, time: Math.round(op.completedAt * unitNs) } })
    } else {
      timed.push({ at: end, seq: Number.POSITIVE_INFINITY, event: { ...base, type: 'info', value: written, time: Math.round(end * unitNs) } })
    }
  }
  timed.sort((a, b) => a.at - b.at || a.seq - b.seq)
  return timed.map((t) => t.event)
}

/** Writes the history as JSON lines to `file`. */
export const writeHistory = (file: string, operations: readonly Operation[], unitNs: number): void => {
  fs.writeFileSync(file, jepsenEvents(operations, unitNs).map((event) => `${JSON.stringify(event)}\n`).join(''))
}

/** Nanoseconds per millisecond (check:sim's virtual clock) and per second (kvsim's). */
export const NS_PER_MS = 1e6
export const NS_PER_S = 1e9
