/**
 * Optional recording of everything a replica was handed (RAFTKV_RECORD=DIR): its identity and seed,
 * then every event with its time, datagrams as the exact text that arrived. Replaying a recording
 * through `step` from the same initial state reproduces the run's states and effects, which is how
 * `npm run bench:step` measures the cost of one event. Off by default; written when the process exits.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { TimerName } from '../effects/effect'
import type { NodeId } from '../domain/wire'

export interface RecordingHeader {
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  readonly seed: number
}

export type RecordedEvent =
  | { readonly at: number; readonly started: true }
  | { readonly at: number; readonly datagram: string }
  | { readonly at: number; readonly timer: TimerName }

export interface Recording {
  readonly header: RecordingHeader
  readonly events: readonly RecordedEvent[]
}

export class EventRecorder {
  private readonly events: RecordedEvent[] = []

  constructor(
    private readonly directory: string,
    private readonly header: RecordingHeader,
  ) {}

  started(at: number): void {
    this.events.push({ at, started: true })
  }

  datagram(at: number, text: string): void {
    this.events.push({ at, datagram: text })
  }

  timer(at: number, timer: TimerName): void {
    this.events.push({ at, timer })
  }

  /** Writes `<directory>/<id>.jsonl`: the header on the first line, then one event a line. */
  flush(): void {
    fs.mkdirSync(this.directory, { recursive: true })
    const lines = [JSON.stringify(this.header), ...this.events.map((event) => JSON.stringify(event))]
    fs.writeFileSync(path.join(this.directory, `${this.header.id}.jsonl`), `${lines.join('\n')}\n`)
  }
}

/** Reads a recording written by `flush`; throws with the file and line on anything malformed. */
export const readRecording = (file: string): Recording => {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '')
  const parse = (line: string, at: number): unknown => {
    try {
      return JSON.parse(line)
    } catch {
      throw new Error(`${file}:${at + 1}: not JSON`)
    }
  }
  const header = parse(lines[0] ?? '', 0) as Partial<RecordingHeader> | null
  if (header === null || typeof header.id !== 'string' || !Array.isArray(header.peers) || typeof header.seed !== 'number') {
    throw new Error(`${file}:1: expected a header with id, peers and seed`)
  }
  const events = lines.slice(1).map((line, i) => {
    const event = parse(line, i + 1) as Partial<Record<'at' | 'started' | 'datagram' | 'timer', unknown>> | null
    const valid =
      event !== null &&
      typeof event.at === 'number' &&
      (event.started === true || typeof event.datagram === 'string' || typeof event.timer === 'string')
    if (!valid) throw new Error(`${file}:${i + 2}: expected an event with at and one of started, datagram, timer`)
    return event as RecordedEvent
  })
  return { header: header as RecordingHeader, events }
}
