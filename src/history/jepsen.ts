/**
 * Client histories in the shape Jepsen's checkers read (and Porcupine and Knossos after them), one
 * JSON object a line (docs/history.md says it all):
 *
 *   {"process": 3, "type": "invoke", "f": "write", "key": "k", "value": "v1", "time": 1000000}
 *
 * - `type`: `invoke` when a client sends a request; `ok` when its first ok arrives; `fail` when it
 *   definitely did not take effect; `info` when its outcome is unknown (it may or may not have
 *   happened; one never completed ends with an `info` line at the history's last time).
 * - `f`: `read`, `write` or `cas`; `value`: a write's value, a read's value read (null: the key was
 *   empty; null too in a read's invocation), a cas's `{"expected": e, "new": n}`.
 * - `process`: one process performs one operation at a time, as Jepsen's convention has it, so a
 *   completion belongs to the latest invocation of its process. A client with several operations
 *   in flight (the simulations' clients send a new request without waiting for the last) is
 *   several processes: its number (the hex digits of its ID, or the least number no other client
 *   has) for the first in flight, that plus 65536 for a second, plus 131072 for a third, and so
 *   on, the lowest free one at each invocation. A process whose operation ended in `info` is never
 *   used again.
 * - `time`: nanoseconds.
 *
 * Redirects and retries are one operation, as the linearizability checker sees them.
 */
import * as fs from 'node:fs'
import * as E from 'fp-ts/Either'
import type { Operation } from './operation'

export type JepsenValue = string | null | { readonly expected: string | null; readonly new: string }

export interface JepsenEvent {
  readonly process: number
  readonly type: 'invoke' | 'ok' | 'fail' | 'info'
  readonly f: 'read' | 'write' | 'cas'
  readonly key: string
  readonly value: JepsenValue
  readonly time: number
}

/** Processes of one client apart: a client number is four hex digits. */
export const PROCESS_STRIDE = 0x10000

/** Nanoseconds per millisecond (check:sim's virtual clock) and per second (kvsim's). */
export const NS_PER_MS = 1e6
export const NS_PER_S = 1e9

const FUNCTION_OF = { get: 'read', put: 'write', cas: 'cas' } as const

/** The history's events in time order (ties in the order the run handled them). `unitNs` is nanoseconds per unit of the operations' times. */
export const jepsenEvents = (operations: readonly Operation[], unitNs: number): JepsenEvent[] => {
  const end = Math.max(0, ...operations.map((op) => op.completedAt ?? op.invokedAt))
  type Timed = { readonly at: number; readonly seq: number; readonly op: Operation; readonly invocation: boolean }
  const timed: Timed[] = []
  for (const op of operations) {
    timed.push({ at: op.invokedAt, seq: op.invokedSeq ?? 0, op, invocation: true })
    timed.push(
      op.completedAt === undefined
        ? { at: end, seq: Number.POSITIVE_INFINITY, op, invocation: false }
        : { at: op.completedAt, seq: op.completedSeq ?? 0, op, invocation: false },
    )
  }
  timed.sort((a, b) => a.at - b.at || a.seq - b.seq)

  // A client's number: its ID's hex digits, unless another client has that number (then the least free one).
  const clientNumbers = new Map<string, number>()
  const taken = new Set<number>()
  const clientNumber = (client: string): number => {
    let n = clientNumbers.get(client)
    if (n === undefined) {
      n = /^[0-9A-Fa-f]{1,4}$/.test(client) ? Number.parseInt(client, 16) : -1
      if (n < 0 || taken.has(n)) for (n = 0; taken.has(n); n++);
      if (n >= PROCESS_STRIDE) throw new Error(`more than ${PROCESS_STRIDE} clients`)
      clientNumbers.set(client, n)
      taken.add(n)
    }
    return n
  }
  /** Per client, which of its processes have an operation in flight (or ended in `info`). */
  const busy = new Map<string, boolean[]>()
  const processOf = new Map<Operation, number>()
  return timed.map(({ op, at, invocation }) => {
    let process = processOf.get(op)
    if (process === undefined) {
      const slots = busy.get(op.client) ?? []
      busy.set(op.client, slots)
      let slot = slots.indexOf(false)
      if (slot < 0) slot = slots.length
      slots[slot] = true
      process = clientNumber(op.client) + slot * PROCESS_STRIDE
      processOf.set(op, process)
    } else if (op.completedAt !== undefined) {
      busy.get(op.client)![Math.floor(process / PROCESS_STRIDE)] = false
    }
    const type = invocation ? 'invoke' : op.completedAt === undefined ? 'info' : op.failed === true ? 'fail' : 'ok'
    return { process, type, f: FUNCTION_OF[op.kind], key: op.key, value: valueOf(op, invocation), time: Math.round(at * unitNs) }
  })
}

const valueOf = (op: Operation, invocation: boolean): JepsenValue => {
  if (op.kind === 'cas') return { expected: op.expected ?? null, new: op.value ?? '' }
  if (op.kind === 'get' && invocation) return null
  return op.value ?? null
}

/** The history as JSON lines. */
export const formatHistory = (operations: readonly Operation[], unitNs: number): string =>
  jepsenEvents(operations, unitNs).map((event) => `${JSON.stringify(event)}\n`).join('')

/** Writes the history as JSON lines to `file`. */
export const writeHistory = (file: string, operations: readonly Operation[], unitNs: number): void => {
  fs.writeFileSync(file, formatHistory(operations, unitNs))
}

/**
 * The operations of a history in this format, times in nanoseconds, each operation's client its
 * process (as a decimal string). Values may be strings or numbers (Knossos's histories write
 * integers; a number reads as its decimal string). Blank lines are skipped. An error names the
 * line and what is wrong with it; nothing is guessed.
 */
export const parseHistory = (text: string): E.Either<string, Operation[]> => {
  const operations: Operation[] = []
  const open = new Map<number, Operation>()
  const lines = text.split('\n')
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim()
    if (line === '') continue
    const event = parseEvent(line)
    if (E.isLeft(event)) return E.left(`line ${n + 1}: ${event.left}`)
    const { process, type, f, key, value, time } = event.right
    const kind = f === 'read' ? 'get' : f === 'write' ? 'put' : 'cas'
    const inFlight = open.get(process)
    if (type === 'invoke') {
      if (inFlight !== undefined) {
        return E.left(`line ${n + 1}: process ${process} invokes an operation while its ${inFlight.id} is in flight (one operation at a time per process)`)
      }
      const op: Operation = { id: `op${operations.length}@${n + 1}`, client: String(process), key, kind, value: undefined, invokedAt: time, completedAt: undefined }
      if (kind === 'put') {
        if (typeof value !== 'string') return E.left(`line ${n + 1}: a write's value must be a string or a number`)
        op.value = value
      } else if (kind === 'cas') {
        if (value === null || typeof value === 'string') return E.left(`line ${n + 1}: a cas's value must be {"expected": e, "new": n} or [e, n]`)
        op.expected = value.expected ?? undefined
        op.value = value.new
      }
      operations.push(op)
      open.set(process, op)
      continue
    }
    if (inFlight === undefined) return E.left(`line ${n + 1}: process ${process} completes an operation it never invoked`)
    if (inFlight.kind !== kind || inFlight.key !== key) {
      return E.left(`line ${n + 1}: process ${process} completes ${f} of ${key}, but it invoked ${FUNCTION_OF[inFlight.kind]} of ${inFlight.key}`)
    }
    open.delete(process)
    if (type === 'info') continue // outcome unknown: it stays pending
    if (time < inFlight.invokedAt) return E.left(`line ${n + 1}: completes at ${time}, before its invocation at ${inFlight.invokedAt}`)
    inFlight.completedAt = time
    if (type === 'fail') inFlight.failed = true
    else if (kind === 'get') {
      if (value !== null && typeof value !== 'string') return E.left(`line ${n + 1}: a read's value must be a string, a number or null`)
      inFlight.value = value ?? undefined
    }
  }
  return E.right(operations)
}

/** Reads a history file (see parseHistory). */
export const readHistory = (file: string): E.Either<string, Operation[]> => {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    return E.left(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return E.mapLeft((why: string) => `${file}, ${why}`)(parseHistory(text))
}

const TYPES = ['invoke', 'ok', 'fail', 'info'] as const
const FUNCTIONS = ['read', 'write', 'cas'] as const

/** A scalar value as a string (null stays null); undefined when it is neither. */
const scalar = (v: unknown): string | null | undefined =>
  v === null ? null : typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined

const parseEvent = (line: string): E.Either<string, JepsenEvent> => {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return E.left('not JSON')
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return E.left('not a JSON object')
  const o = raw as Record<string, unknown>
  const { process, type, f, time } = o
  if (typeof process !== 'number' || !Number.isInteger(process)) return E.left('"process" must be an integer')
  if (!TYPES.includes(type as never)) return E.left(`"type" must be one of ${TYPES.join(', ')}`)
  if (!FUNCTIONS.includes(f as never)) return E.left(`"f" must be one of ${FUNCTIONS.join(', ')}`)
  if (typeof time !== 'number' || !Number.isFinite(time)) return E.left('"time" must be a number')
  const key = scalar(o['key'])
  if (key === undefined || key === null) return E.left('"key" must be a string or a number')
  let value: JepsenValue
  const v = o['value']
  if (f === 'cas' && type === 'invoke') {
    const pair = Array.isArray(v) ? { expected: v[0], new: v[1] } : typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined
    const expected = pair === undefined ? undefined : scalar(pair['expected'])
    const written = pair === undefined ? undefined : scalar(pair['new'])
    if (expected === undefined || written === undefined || written === null) return E.left('a cas\'s value must be {"expected": e, "new": n} or [e, n]')
    value = { expected, new: written }
  } else if (f === 'cas') {
    value = null // a cas's completion may repeat its values; its invocation holds them
  } else {
    const s = v === undefined ? null : scalar(v)
    if (s === undefined) return E.left('"value" must be a string, a number or null')
    value = s
  }
  return E.right({ process, type: type as JepsenEvent['type'], f: f as JepsenEvent['f'], key, value, time })
}
