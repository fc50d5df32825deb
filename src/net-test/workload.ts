/**
 * The clients: several on each key, each with its own connection, each doing one operation at a
 * time (a read, a write of a value no one else writes, or a compare-and-set from the last value it
 * saw), each operation under its own timeout, every invocation and completion recorded in the
 * history. A client whose operation ended in `info` continues as a new process with a new
 * connection (Jepsen's rule: the old request may still be in flight). At the end, every key is
 * read once more (the final reads, retried until one succeeds or the deadline passes), which is
 * where an acknowledged write that the cluster lost would show.
 *
 * Aimed clients (Jepsen binds clients to nodes): idle until the nemesis aims them at a replica,
 * then each reader reads its key from that replica alone, following no redirect, so that a
 * replica that believes it leads when it no longer does is asked exactly then; and each writer
 * writes its key through whichever other replica says it leads (the status polls tell, see
 * `leaderElsewhere`), so that the new leader has written something the old one may not know.
 * A refusal (a redirect, no leader known) is `fail`; no answer within the timeout is `info`, and
 * the client goes on as a new process on a new connection.
 */
import { Rng } from '../check/rng'
import type { Connect, KvConnection, Outcome } from './connection'
import type { JepsenValue } from '../history/jepsen'
import type { HistoryEvent, HistorySink } from './history'

type OpF = HistoryEvent['f']

export interface WorkloadOptions {
  readonly seed: number
  readonly keys: readonly string[]
  readonly clientsPerKey: number
  /** Each operation's timeout, retries included: past it the operation is `info`. */
  readonly opTimeoutMs: number
  /** One attempt at one replica: a client gives up on a paused or cut-off replica after this. */
  readonly attemptTimeoutMs: number
  /** A client waits between its operations (uniform in the range). */
  readonly thinkMs: readonly [number, number]
  /** Shares of reads and writes; the rest are compare-and-sets. */
  readonly readShare: number
  readonly writeShare: number
  /** Aimed readers for each key, and aimed writers (see above). */
  readonly aimedReadersPerKey: number
  readonly aimedWritersPerKey: number
  /** An aimed operation's timeout: past it, `info`. */
  readonly aimedTimeoutMs: number
}

export const DEFAULT_WORKLOAD: Omit<WorkloadOptions, 'seed'> = {
  keys: ['k1', 'k2', 'k3', 'k4'],
  clientsPerKey: 3,
  opTimeoutMs: 5_000,
  attemptTimeoutMs: 1_000,
  thinkMs: [0, 40],
  readShare: 0.5,
  writeShare: 0.3,
  aimedReadersPerKey: 2,
  aimedWritersPerKey: 1,
  aimedTimeoutMs: 1_000,
}

/** The final reads' processes are numbered from here, apart from the clients'. */
export const FINAL_READ_PROCESS = 1_000_000
/** The aimed clients' processes are numbered from here, apart from the clients' and the final reads'. */
export const AIMED_PROCESS = 500_000

/** Opens an aimed client's connection to one replica (by 1-based index): no redirect followed. */
export type ConnectAimed = (replica: number) => KvConnection

export interface FinalRead {
  readonly key: string
  /** Undefined when no final read succeeded before the deadline. */
  readonly value: string | null | undefined
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted === true) return resolve()
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, { once: true })
  })

export class Workload {
  private readonly clients: number
  private nextFinalProcess: number
  /** The replica the aimed readers read from, if any. */
  private aimedAt: number | undefined
  /** Another replica that says it leads, if the status polls know one. */
  private leaderElsewhere: number | undefined
  /** Aimed clients waiting for something to aim at. */
  private idle: Array<() => void> = []

  constructor(
    private readonly options: WorkloadOptions,
    private readonly connect: Connect,
    private readonly history: HistorySink,
    /** Nanoseconds since the run started. */
    private readonly clock: () => number,
  private readonly connectAimed?: ConnectAimed,
  ) {
    this.clients = options.keys.length * options.clientsPerKey
    this.nextFinalProcess = FINAL_READ_PROCESS
  }

  /** Runs every client until `stop` is aborted; resolves when each has finished its operation. */
  async run(stop: AbortSignal): Promise<void> {
    const o = this.options
    const readers = this.connectAimed === undefined ? 0 : o.keys.length * o.aimedReadersPerKey
    const writers = this.connectAimed === undefined ? 0 : o.keys.length * o.aimedWritersPerKey
    const aimed = readers + writers
    stop.addEventListener('abort', () => this.wakeIdle(), { once: true })
    await Promise.all([
      ...Array.from({ length: this.clients }, (_, c) => this.runClient(c, stop)),
      ...Array.from({ length: readers }, (_, r) => this.runAimed(r, aimed, 'read', () => this.aimedAt, stop)),
      ...Array.from({ length: writers }, (_, w) => this.runAimed(readers + w, aimed, 'write', () => (this.aimedAt === undefined ? undefined : this.leaderElsewhere), stop)),
    ])
  }

  /** Aims the aimed readers at a replica (1-based), and the writers at any other that leads; undefined: they stop. */
  aim(replica: number | undefined): void {
    this.aimedAt = replica
    this.leaderElsewhere = undefined
    this.leaderElsewhereTerm = 0
    if (replica !== undefined) this.wakeIdle()
  }

  /** What the status polls say: `replica` says it leads in `term`. The highest term's leader other than the aimed-at replica is where aimed writes go. */
  leaderSeen(replica: number, term: number): void {
    if (replica === this.aimedAt) return
    if (this.leaderElsewhere === replica) return
    if (term >= this.leaderElsewhereTerm) {
      this.leaderElsewhere = replica
      this.leaderElsewhereTerm = term
      this.wakeIdle()
    }
  }

  private leaderElsewhereTerm = 0
  /** Aimed writes acknowledged so far (the nemesis wakes a paused leader once the new one has written). */
  aimedWritesOk = 0

  private wakeIdle(): void {
    const idle = this.idle
    this.idle = []
    for (const wake of idle) wake()
  }

  /** One aimed client: its operation on its key at the replica `target()` names, while it names one. */
  private async runAimed(index: number, count: number, f: 'read' | 'write', target: () => number | undefined, stop: AbortSignal): Promise<void> {
    const o = this.options
    const key = o.keys[index % o.keys.length]!
    const rng = new Rng((o.seed * 7919 + (AIMED_PROCESS + index) * 104_729) >>> 0)
    let process = AIMED_PROCESS + index
    let written = 0
    let connection: KvConnection | undefined
    let connectedTo: number | undefined
    try {
      while (!stop.aborted) {
        const replica = target()
        if (replica === undefined) {
          connection?.close()
          connection = undefined
          await new Promise<void>((resolve) => this.idle.push(resolve))
          continue
        }
        if (connection === undefined || connectedTo !== replica) {
          connection?.close()
          connection = this.connectAimed!(replica)
          connectedTo = replica
        }
        const outcome = await this.operation(connection, process, f, key, f === 'read' ? null : `${process}-${written++}`)
        if (f === 'write' && outcome.type === 'ok') this.aimedWritesOk += 1
        if (outcome.type === 'info') {
          process += count
          connection.close()
          connection = undefined
        }
        // A replica that refuses (it knows it does not lead) is asked again less often.
        await sleep(outcome.type === 'fail' ? 100 : rng.between(o.thinkMs[0], o.thinkMs[1]), stop)
      }
    } finally {
      connection?.close()
    }
  }

  private async runClient(client: number, stop: AbortSignal): Promise<void> {
    const o = this.options
    const key = o.keys[client % o.keys.length]!
    const rng = new Rng((o.seed * 7919 + client * 104_729) >>> 0)
    let process = client
    let connection = this.connect(client)
    let written = 0
    let lastSeen: string | null = null
    try {
      while (!stop.aborted) {
        const roll = rng.next()
        const f: OpF = roll < o.readShare || (roll >= o.readShare + o.writeShare && lastSeen === null) ? 'read' : roll < o.readShare + o.writeShare ? 'write' : 'cas'
        const fresh = `${process}-${written}`
        const outcome = await this.operation(connection, process, f, key, f === 'read' ? null : f === 'write' ? fresh : { expected: lastSeen, new: fresh })
        if (f !== 'read') written += 1
        if (outcome.type === 'ok') lastSeen = f === 'read' ? (outcome.value as string | null) : fresh
        if (outcome.type === 'info') {
          process += this.clients
          connection.close()
          connection = this.connect(client)
        }
        await sleep(rng.between(o.thinkMs[0], o.thinkMs[1]), stop)
      }
    } finally {
      connection.close()
    }
  }

  /** One operation, recorded: its invocation, then its completion. */
  private async operation(connection: KvConnection, process: number, f: OpF, key: string, value: JepsenValue): Promise<Outcome<string | null>> {
    this.record({ process, type: 'invoke', f, key, value, time: this.clock() })
    let outcome: Outcome<string | null>
    try {
      if (f === 'read') outcome = await connection.read(key)
      else if (f === 'write') outcome = await connection.write(key, value as string)
      else {
        const cas = value as { readonly expected: string | null; readonly new: string }
        outcome = await connection.cas(key, cas.expected as string, cas.new)
      }
    } catch (error) {
      // A client library that throws: the request may have gone out.
      outcome = { type: 'info', error: error instanceof Error ? error.message : String(error) }
    }
    const completed = outcome.type === 'ok' ? (f === 'read' ? outcome.value : value) : value
    this.record({ process, type: outcome.type, f, key, value: completed, time: this.clock(), ...(outcome.type === 'ok' ? {} : { error: outcome.error }) })
    return outcome
  }

  private record(event: HistoryEvent): void {
    this.history.append(event)
  }

  /** Reads every key until one read of it succeeds or `deadlineMs` passes; each attempt is in the history. */
  async finalReads(deadlineMs: number): Promise<FinalRead[]> {
    const until = Date.now() + deadlineMs
    return Promise.all(
      this.options.keys.map(async (key, k) => {
        let connection = this.connect(this.clients + k)
        try {
          while (Date.now() < until) {
            const process = this.nextFinalProcess++
            const outcome = await this.operation(connection, process, 'read', key, null)
            if (outcome.type === 'ok') return { key, value: outcome.value }
            if (outcome.type === 'info') {
              connection.close()
              connection = this.connect(this.clients + k)
            }
            await sleep(200)
          }
          return { key, value: undefined }
        } finally {
          connection.close()
        }
      }),
    )
  }
}
