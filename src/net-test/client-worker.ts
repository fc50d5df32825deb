/**
 * The clients' process, run by the harness inside the clients' namespace (the harness itself sits
 * outside the test's network and cannot reach it). It takes orders on stdin and answers on stdout,
 * one JSON object a line:
 *
 *   {"cmd":"status"}                 -> {"type":"status","replicas":[{"index":1,"status":{...}} | {"index":1,"error":"..."}]}
 *   {"cmd":"status","replicas":[2,3]}   the same, of those replicas only
 *   {"cmd":"start","originMs":T}     -> {"type":"started"}   (the clients run, recording the history;
 *                                       times are counted from T, the harness's `performance.timeOrigin + performance.now()`;
 *                                       every replica's /v1/status is polled meanwhile, for the leaders it names)
 *   {"cmd":"aim","replica":N|null}   -> {"type":"aimed"}     (the aimed readers read from replica N, or stop)
 *   {"cmd":"aimed-writes"}           -> {"type":"aimed-writes","ok":N}  (aimed writes acknowledged so far)
 *   {"cmd":"stop","finalReadMs":N}   -> {"type":"final","reads":[{"key":"k1","value":...}],
 *                                        "leaders":[{"term":3,"replica":2,"atMs":1234.5}],
 *                                        "roles":[{"replica":2,"atMs":1234.5,"role":"leader","term":3}]}, then it exits
 *
 * Its configuration is one JSON argument (WorkerConfig).
 */
import * as http from 'node:http'
import * as readline from 'node:readline'
import { HistoryFile } from './history'
import { ClientConnection, DirectConnection } from './client-connection'
import { LeaderWatch, type LeaderSighting } from './leaders'
import { Workload, type WorkloadOptions } from './workload'

export interface WorkerConfig {
  readonly workload: WorkloadOptions
  /** Each replica's client URL, in replica order. */
  readonly endpoints: readonly string[]
  readonly historyFile: string
}

const write = (message: object): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

const fetchStatus = (endpoint: string): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const req = http.get(new URL('/v1/status', endpoint), { agent: false, timeout: 700 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        } catch {
          reject(new Error(`status ${res.statusCode}: not JSON`))
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })

const main = (): void => {
  const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig
  const history = new HistoryFile(config.historyFile)
  let originMs = performance.timeOrigin + performance.now()
  const clock = (): number => Math.round((performance.timeOrigin + performance.now() - originMs) * 1e6)
  const connect = (): ClientConnection =>
    new ClientConnection({ endpoints: config.endpoints, timeoutMs: config.workload.opTimeoutMs, attemptTimeoutMs: config.workload.attemptTimeoutMs })
  const workload = new Workload(config.workload, connect, history, clock, (replica) => new DirectConnection(config.endpoints[replica - 1]!, config.workload.aimedTimeoutMs))
  const stop = new AbortController()
  let running: Promise<void> | undefined
  // Election Safety (§5.2) seen from outside: every replica's status, several times a second.
  const leaders = new LeaderWatch()
  let watching: Promise<void> | undefined
  // Each replica polled on its own, so that a paused one delays no other's answers.
  const watch = (): Promise<void> =>
    Promise.all(
      config.endpoints.map(async (endpoint, i) => {
        while (!stop.signal.aborted) {
          const polled = clock() / 1e6
          try {
            const status = await fetchStatus(endpoint)
            leaders.observe(i + 1, status, polled)
            const s = status as { role?: unknown; term?: unknown }
            if (s.role === 'leader' && typeof s.term === 'number') workload.leaderSeen(i + 1, s.term)
          } catch {
            // No answer (killed, paused, not yet started): so the lanes of a timeline show it.
            leaders.unreachable(i + 1, polled)
          }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }),
    ).then(() => undefined)

  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const order = JSON.parse(line) as { cmd: string; finalReadMs?: number; originMs?: number }
    if (order.cmd === 'status') {
      const only = (order as { replicas?: number[] }).replicas
      void Promise.all(
        config.endpoints.flatMap((endpoint, i) =>
          only !== undefined && !only.includes(i + 1) ? [] : fetchStatus(endpoint).then(
            (status) => ({ index: i + 1, status }),
            (error: unknown) => ({ index: i + 1, error: error instanceof Error ? error.message : String(error) }),
          ),
        ),
      ).then((replicas) => write({ type: 'status', replicas }))
    } else if (order.cmd === 'start') {
      if (order.originMs !== undefined) originMs = order.originMs
      running = workload.run(stop.signal)
      watching = watch()
      write({ type: 'started' })
    } else if (order.cmd === 'aimed-writes') {
      write({ type: 'aimed-writes', ok: workload.aimedWritesOk })
    } else if (order.cmd === 'aim') {
      workload.aim((order as { replica?: number | null }).replica ?? undefined)
      write({ type: 'aimed' })
    } else if (order.cmd === 'stop') {
      stop.abort()
      void (async () => {
        await running
        await watching
        const reads = await workload.finalReads(order.finalReadMs ?? 10_000)
        history.close()
        const sightings: LeaderSighting[] = leaders.sightings()
        write({ type: 'final', reads, leaders: sightings, roles: leaders.roleChanges() })
        process.exit(0)
      })()
    }
  })
  // The harness went away: stop at once.
  lines.on('close', () => process.exit(0))
}

main()
