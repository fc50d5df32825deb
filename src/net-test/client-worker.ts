/**
 * The clients' process, run by the harness inside the clients' namespace (the harness itself sits
 * outside the test's network and cannot reach it). It takes orders on stdin and answers on stdout,
 * one JSON object a line:
 *
 *   {"cmd":"status"}                 -> {"type":"status","replicas":[{"index":1,"status":{...}} | {"index":1,"error":"..."}]}
 *   {"cmd":"start","originMs":T}     -> {"type":"started"}   (the clients run, recording the history;
 *                                       times are counted from T, the harness's `performance.timeOrigin + performance.now()`)
 *   {"cmd":"stop","finalReadMs":N}   -> {"type":"final","reads":[{"key":"k1","value":...}]}, then it exits
 *
 * Its configuration is one JSON argument (WorkerConfig).
 */
import * as http from 'node:http'
import * as readline from 'node:readline'
import { HistoryFile } from './history'
import { ClientConnection } from './client-connection'
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
  const workload = new Workload(config.workload, connect, history, clock)
  const stop = new AbortController()
  let running: Promise<void> | undefined

  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const order = JSON.parse(line) as { cmd: string; finalReadMs?: number; originMs?: number }
    if (order.cmd === 'status') {
      void Promise.all(
        config.endpoints.map((endpoint, i) =>
          fetchStatus(endpoint).then(
            (status) => ({ index: i + 1, status }),
            (error: unknown) => ({ index: i + 1, error: error instanceof Error ? error.message : String(error) }),
          ),
        ),
      ).then((replicas) => write({ type: 'status', replicas }))
    } else if (order.cmd === 'start') {
      if (order.originMs !== undefined) originMs = order.originMs
      running = workload.run(stop.signal)
      write({ type: 'started' })
    } else if (order.cmd === 'stop') {
      stop.abort()
      void (async () => {
        await running
        const reads = await workload.finalReads(order.finalReadMs ?? 10_000)
        history.close()
        write({ type: 'final', reads })
        process.exit(0)
      })()
    }
  })
  // The harness went away: stop at once.
  lines.on('close', () => process.exit(0))
}

main()
