/**
 * Optional recording of everything a replica was handed (RAFTKV_RECORD=DIR): its identity and seed,
 * then every event with its time, datagrams as the exact text that arrived. Replaying a recording
 * through `step` from the same initial state reproduces the run's states and effects, which is how
 * `npm run bench:step` measures the cost of one event. Off by default; written when the process exits.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { decodeOrExplain } from '../decoding/report'
import type { TimerName } from '../domain/effect'
import { NodeId } from '../domain/wire'

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
const HeaderCodec = t.type(
  { id: NodeId, peers: t.array(NodeId, 'a list of replica IDs'), seed: t.number },
  'a header: {"id": replica ID, "peers": [replica IDs], "seed": number}',
)
const EventCodec = t.union(
  [
    t.type({ at: t.number, started: t.literal(true) }),
    t.type({ at: t.number, datagram: t.string }),
    t.type({ at: t.number, timer: t.keyof({ election: null, heartbeat: null, voteRetry: null }) }),
  ],
  'an event: {"at": ms, and one of "started": true, "datagram": text, "timer": election|heartbeat|voteRetry}',
)

/** Reads a recording; an Error names the file, the line and each bad field. */
export const readRecording = (file: string): Recording => {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '')
  const decodeLine = <A>(codec: t.Decoder<unknown, A>, at: number): A => {
    let json: unknown
    try {
      json = JSON.parse(lines[at] ?? '')
    } catch {
      throw new Error(`${file}:${at + 1}: not JSON`)
    }
    const decoded = decodeOrExplain(codec, json)
    if (E.isLeft(decoded)) throw new Error(`${file}:${at + 1}: ${decoded.left.join('; ')}`)
    return decoded.right
  }
  const header = decodeLine(HeaderCodec, 0)
  const events = lines.slice(1).map((_, i) => decodeLine(EventCodec, i + 1))
  return { header, events }
}
