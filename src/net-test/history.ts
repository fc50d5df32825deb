/**
 * The clients' history in Jepsen's shape, one JSON object a line:
 * `{"process", "type": "invoke"|"ok"|"fail"|"info", "f": "read"|"write"|"cas", "key", "value", "time"}`.
 *
 * - `time` is nanoseconds since the run started (one clock: every client runs in one process).
 * - A read's invocation has value null; its `ok` carries the value read (null: the key had none).
 * - A cas's value is `[expected, new]`; `fail` when the comparison failed (it changed nothing).
 * - `fail`: the operation certainly did not happen (refused, or the comparison failed); `info`: it
 *   may or may not have happened (a timeout, a connection lost after the request was sent). As in
 *   Jepsen, a process whose operation ended in `info` never invokes again: its client goes on as a
 *   new process (the old request may still be in flight).
 * - `error` (optional) says why an operation failed or is uncertain.
 */
import * as fs from 'node:fs'

export type OpType = 'invoke' | 'ok' | 'fail' | 'info'
export type OpF = 'read' | 'write' | 'cas'
export type OpValue = string | null | readonly [string | null, string]

export interface HistoryEvent {
  readonly process: number
  readonly type: OpType
  readonly f: OpF
  readonly key: string
  readonly value: OpValue
  readonly time: number
  readonly error?: string
}

export interface HistorySink {
  append(event: HistoryEvent): void
}

/** Appends each event to a file as it happens (a crash of the harness keeps what was recorded). */
export class HistoryFile implements HistorySink {
  private readonly fd: number

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'w')
  }

  append(event: HistoryEvent): void {
    fs.writeSync(this.fd, `${JSON.stringify(event)}\n`)
  }

  close(): void {
    fs.closeSync(this.fd)
  }
}

export class MemoryHistory implements HistorySink {
  readonly events: HistoryEvent[] = []

  append(event: HistoryEvent): void {
    this.events.push(event)
  }
}

const isOpValue = (v: unknown): v is OpValue =>
  v === null || typeof v === 'string' || (Array.isArray(v) && v.length === 2 && (v[0] === null || typeof v[0] === 'string') && typeof v[1] === 'string')

/** Reads a history file back; a malformed line is an error naming its line number. */
export const readHistory = (path: string): HistoryEvent[] =>
  fs
    .readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let o: unknown
      try {
        o = JSON.parse(line)
      } catch {
        throw new Error(`${path}:${i + 1}: not JSON`)
      }
      const e = o as Record<string, unknown>
      if (
        typeof e.process !== 'number' ||
        !['invoke', 'ok', 'fail', 'info'].includes(e.type as string) ||
        !['read', 'write', 'cas'].includes(e.f as string) ||
        typeof e.key !== 'string' ||
        !isOpValue(e.value) ||
        typeof e.time !== 'number'
      ) {
        throw new Error(`${path}:${i + 1}: not a history event: ${line.slice(0, 200)}`)
      }
      return e as unknown as HistoryEvent
    })

/** One operation: its invocation and its completion (undefined: none recorded). */
export interface PairedOperation {
  readonly invoke: HistoryEvent
  readonly completion: HistoryEvent | undefined
}

/** Pairs each invocation with its process's next completion. */
export const pairOperations = (events: readonly HistoryEvent[]): PairedOperation[] => {
  const open = new Map<number, number>()
  const ops: Array<{ invoke: HistoryEvent; completion: HistoryEvent | undefined }> = []
  for (const event of events) {
    if (event.type === 'invoke') {
      if (open.has(event.process)) throw new Error(`process ${event.process} invoked twice without a completion`)
      open.set(event.process, ops.length)
      ops.push({ invoke: event, completion: undefined })
    } else {
      const at = open.get(event.process)
      if (at === undefined) throw new Error(`process ${event.process} completed an operation it never invoked`)
      open.delete(event.process)
      ops[at]!.completion = event
    }
  }
  return ops
}
