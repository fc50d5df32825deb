/**
 * Where the clients' history goes as it happens: one JSON object a line, in the project's history
 * format (docs/history.md, src/history/jepsen.ts, which reads it back), Jepsen's shape:
 * `{"process", "type": "invoke"|"ok"|"fail"|"info", "f": "read"|"write"|"cas", "key", "value", "time"}`.
 *
 * - `time` is nanoseconds since the run started (one clock: every client runs in one process).
 * - A read's invocation has value null; its `ok` carries the value read (null: the key had none).
 * - A cas's value is `{"expected": e, "new": n}`; `fail` when the comparison failed.
 * - `fail`: the operation certainly did not happen; `info`: it may or may not have (a timeout, a
 *   connection lost after the request was sent). A process whose operation ended in `info` never
 *   invokes again: its client goes on as a new process.
 * - `error` (an extra field, which readers ignore) says why an operation failed or is uncertain.
 */
import * as fs from 'node:fs'
import type { JepsenEvent } from '../history/jepsen'

export type HistoryEvent = JepsenEvent & { readonly error?: string }

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
