/**
 * A real raftkv cluster for tests: `./raftkv serve` processes on loopback, at ports the kernel
 * chose (each found by binding port 0 and letting go), each in its own process group so that a
 * test can SIGKILL or SIGSTOP it. Generous bounds: this checks behaviour, not speed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import type { ReplicaStatus } from '../../src/domain/status'
import { freePort } from '../../src/runtime/net/listen'
import * as os from 'node:os'
import * as path from 'node:path'

export const RAFTKV = path.resolve(__dirname, '../../raftkv')

/** GET /v1/status's answer: the domain's status as JSON. */
export type ReplicaStatusJson = ReplicaStatus

export { freePort }

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export const until = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

export interface ReplicaProcess {
  readonly id: string
  readonly peerPort: number
  readonly clientPort: number
  child: ChildProcess | undefined
  output: string
}

export class RealCluster {
  readonly dataDir: string
  readonly replicas: ReplicaProcess[] = []
  /** The `--peers` of the cluster's first start: every first member. */
  peersArg = ''

  constructor(readonly size: number, readonly extraArgs: readonly string[] = []) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-cluster-'))
  }

  async start(): Promise<void> {
    for (let i = 1; i <= this.size; i++) {
      this.replicas.push({ id: i.toString(16).padStart(4, '0').toUpperCase(), peerPort: await freePort(), clientPort: await freePort(), child: undefined, output: '' })
    }
    this.peersArg = this.replicas.map((r) => this.peerEntry(r)).join(',')
    for (const r of this.replicas) this.startReplica(r)
  }

  get endpoints(): string[] {
    return this.replicas.map((r) => this.url(r))
  }

  url(r: ReplicaProcess): string {
    return `http://127.0.0.1:${r.clientPort}`
  }

  /** Starts `r` with the command of the cluster's first start (every first member in --peers). */
  startReplica(r: ReplicaProcess): void {
    this.serve(r, ['--id', r.id, '--peers', this.peersArg, '--data', this.dataDir, ...this.extraArgs])
  }

  /** A replica's `--peers` entry: `ID=127.0.0.1:PEER_PORT/CLIENT_PORT`. */
  peerEntry(r: ReplicaProcess): string {
    return `${r.id}=127.0.0.1:${r.peerPort}/${r.clientPort}`
  }

  /** Starts `r` as `./raftkv serve <args>`, in its own process group, its output kept in `r.output`. */
  serve(r: ReplicaProcess, args: readonly string[]): void {
    const child = spawn(RAFTKV, ['serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    r.child = child
    child.stdout!.on('data', (chunk: Buffer) => (r.output += chunk.toString('utf8')))
    child.stderr!.on('data', (chunk: Buffer) => (r.output += chunk.toString('utf8')))
  }

  async status(r: ReplicaProcess): Promise<ReplicaStatusJson | undefined> {
    try {
      const response = await fetch(`${this.url(r)}/v1/status`, { signal: AbortSignal.timeout(2_000) })
      return response.status === 200 ? ((await response.json()) as ReplicaStatusJson) : undefined
    } catch {
      return undefined
    }
  }

  /** The replica every living replica names as leader, once they agree and it says so itself. */
  async leader(): Promise<ReplicaProcess> {
    return until('a leader all living replicas agree on', async () => {
      const living = this.replicas.filter(RealCluster.alive)
      const statuses = await Promise.all(living.map((r) => this.status(r)))
      const leaderId = statuses[0]?.leader
      if (leaderId === undefined || statuses.some((s) => s === undefined || s.leader !== leaderId)) return undefined
      const leader = this.replicas.find((r) => r.id === leaderId)
      return statuses.find((s) => s?.id === leaderId)?.role === 'leader' ? leader : undefined
    })
  }

  /** Whether `r` runs (started and not exited). */
  static alive(r: ReplicaProcess): boolean {
    return r.child !== undefined && r.child.exitCode === null && r.child.signalCode === null
  }

  async kill(r: ReplicaProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = r.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    process.kill(-child.pid!, signal)
    await exited
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) {
      try {
        if (r.child?.pid !== undefined && r.child.exitCode === null && r.child.signalCode === null) process.kill(-r.child.pid, 'SIGKILL')
      } catch {
        // gone already
      }
    }
    await sleep(100)
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }

  /** Runs `./raftkv <args>` against this cluster; resolves to its exit code and output. */
  cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(RAFTKV, [...args.slice(0, 1), '--endpoints', this.endpoints.join(','), ...args.slice(1)], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
      child.on('exit', (code) => resolve({ code, stdout, stderr }))
    })
  }
}
