/**
 * The harness's side of the clients' process (client-worker.ts): started in the clients'
 * namespace, it answers one order at a time.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as readline from 'node:readline'
import { repoRoot } from '../sim/paths'
import type { WorkerConfig } from './client-worker'
import { onHost, type Host } from './topology'
import type { LeaderSighting, RoleSighting } from './leaders'
import type { FinalRead } from './workload'

export interface ReplicaStatusReply {
  readonly index: number
  readonly status?: unknown
  readonly error?: string
}

export class WorkerHandle {
  private readonly child: ChildProcess
  private readonly waiting: Array<(message: Record<string, unknown>) => void> = []
  private queue: Promise<void> = Promise.resolve()
  readonly exited: Promise<number | null>

  constructor(host: Host, config: WorkerConfig, logFile: string) {
    // The compiled worker (also when the harness itself runs from source, as under vitest).
    const script = path.join(repoRoot(), 'dist', 'src', 'net-test', 'client-worker.js')
    const [program, ...args] = onHost(host, ['setpriv', '--pdeathsig', 'KILL', process.execPath, script, JSON.stringify(config)])
    const log = fs.openSync(logFile, 'a')
    this.child = spawn(program!, args, { stdio: ['pipe', 'pipe', log] })
    fs.closeSync(log)
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
    // A worker that died: the exit answers the order in flight (EPIPE on its stdin is no news).
    this.child.stdin!.on('error', () => undefined)
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let message: Record<string, unknown>
      try {
        message = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      this.waiting.shift()?.(message)
    })
  }

  /** One order at a time: each answer goes to the order before it. */
  private ask(order: object): Promise<Record<string, unknown>> {
    const answer = this.queue.then(() => this.askNow(order))
    this.queue = answer.then(
      () => undefined,
      () => undefined,
    )
    return answer
  }

  private askNow(order: object): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error('the clients\' process has exited'))
      this.waiting.push(resolve)
      this.child.stdin!.write(`${JSON.stringify(order)}\n`)
      void this.exited.then(() => reject(new Error('the clients\' process exited before answering')))
    })
  }

  /** Each replica's /v1/status (or those named only). */
  async status(replicas?: readonly number[]): Promise<ReplicaStatusReply[]> {
    const reply = await this.ask(replicas === undefined ? { cmd: 'status' } : { cmd: 'status', replicas })
    return reply.replicas as ReplicaStatusReply[]
  }

  /** Starts the clients; history times count from `originMs` (`performance.timeOrigin + performance.now()` here). */
  async start(originMs: number): Promise<void> {
    await this.ask({ cmd: 'start', originMs })
  }

  /** Aims the aimed readers at a replica (1-based), or stops them. */
  async aim(replica: number | undefined): Promise<void> {
    await this.ask({ cmd: 'aim', replica: replica ?? null })
  }

  /** How many aimed writes the new leader has acknowledged so far. */
  async aimedWritesOk(): Promise<number> {
    const reply = await this.ask({ cmd: 'aimed-writes' })
    return Number(reply.ok)
  }

  /** Stops the clients; the final reads, and every replica seen leading in some term. */
  async stop(finalReadMs: number): Promise<{ reads: FinalRead[]; leaders: LeaderSighting[]; roles: RoleSighting[] }> {
    const reply = await this.ask({ cmd: 'stop', finalReadMs })
    const reads = (reply.reads as Array<{ key: string; value?: string | null }>).map((r) => ({ key: r.key, value: r.value }))
    return { reads, leaders: (reply.leaders as LeaderSighting[] | undefined) ?? [], roles: (reply.roles as RoleSighting[] | undefined) ?? [] }
  }

  kill(): void {
    this.child.kill('SIGKILL')
  }
}
