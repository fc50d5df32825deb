/**
 * The replicas' processes, each in its own namespace: started, killed (SIGKILL) and restarted on
 * the same data directory, paused (SIGSTOP) and resumed (SIGCONT). Each process is started as
 * `ip netns exec <ns> setpriv --pdeathsig KILL <command>`: `ip` and `setpriv` exec into the command,
 * so the pid is the replica's own (a signal reaches it, not a wrapper), and the replica dies with
 * the harness even when the harness is killed by SIGKILL. Every exit the harness did not ask for is
 * remembered: a replica that crashed by itself fails the run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import { onHost, type ReplicaHost, type Topology } from './topology'

/** How to run one replica: its command line and environment, given its host and the whole topology. */
export type ReplicaCommand = (replica: ReplicaHost, topology: Topology) => { readonly argv: readonly string[]; readonly env?: Readonly<Record<string, string>> }

export interface UnexpectedExit {
  readonly replica: string
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Milliseconds since the supervisor started. */
  readonly at: number
  /** The last lines the replica wrote. */
  readonly tail: string
}

type Status = 'running' | 'killed' | 'paused' | 'stopped'

interface Slot {
  readonly host: ReplicaHost
  child: ChildProcess | undefined
  status: Status
  /** Set while the harness itself is ending the process (SIGKILL by the nemesis, or the end). */
  expectingExit: boolean
  starts: number
}

export class ReplicaSupervisor {
  private readonly slots: Slot[]
  private readonly started = performance.now()
  readonly unexpectedExits: UnexpectedExit[] = []

  constructor(
    private readonly topology: Topology,
    private readonly command: ReplicaCommand,
  ) {
    this.slots = topology.replicas.map((host) => ({ host, child: undefined, status: 'stopped', expectingExit: false, starts: 0 }))
  }

  logFile(index: number): string {
    return `${this.topology.workDir}/${this.slot(index).host.id}.log`
  }

  dataDir(index: number): string {
    return this.slot(index).host.dataDir
  }

  status(index: number): Status {
    return this.slot(index).status
  }

  pid(index: number): number | undefined {
    return this.slot(index).child?.pid
  }

  startAll(): void {
    for (const slot of this.slots) this.start(slot.host.index)
  }

  start(index: number): void {
    const slot = this.slot(index)
    if (slot.status === 'running' || slot.status === 'paused') throw new Error(`${slot.host.id} is already running`)
    const { argv, env } = this.command(slot.host, this.topology)
    const log = fs.openSync(this.logFile(index), 'a')
    slot.starts += 1
    fs.writeSync(log, `--- start ${slot.starts} at ${this.now().toFixed(0)} ms: ${argv.join(' ')}\n`)
    const [program, ...args] = onHost(slot.host, ['setpriv', '--pdeathsig', 'KILL', ...argv])
    const child = spawn(program!, args, {
      stdio: ['ignore', log, log],
      env: { ...process.env, ...env },
    })
    fs.closeSync(log)
    slot.child = child
    slot.status = 'running'
    slot.expectingExit = false
    child.once('exit', (code, signal) => {
      if (slot.child !== child) return
      slot.child = undefined
      if (!slot.expectingExit) {
        this.unexpectedExits.push({ replica: slot.host.id, code, signal, at: this.now(), tail: this.tail(index) })
        slot.status = 'stopped'
      }
    })
  }

  /** SIGKILL; the replica stays down until `restart`. Resolves once it has exited. */
  async kill(index: number): Promise<void> {
    const slot = this.slot(index)
    const child = slot.child
    if (child === undefined) return
    slot.expectingExit = true
    slot.status = 'killed'
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }

  restart(index: number): void {
    this.start(index)
  }

  pause(index: number): void {
    const slot = this.slot(index)
    if (slot.child === undefined || slot.status !== 'running') return
    slot.child.kill('SIGSTOP')
    slot.status = 'paused'
  }

  resume(index: number): void {
    const slot = this.slot(index)
    if (slot.child === undefined || slot.status !== 'paused') return
    slot.child.kill('SIGCONT')
    slot.status = 'running'
  }

  /** Resumes a paused replica, restarts a killed one (after a move that ended early). */
  ensureRunning(index: number): void {
    const slot = this.slot(index)
    if (slot.status === 'paused') this.resume(index)
    else if (slot.status === 'killed') this.restart(index)
  }

  /** Ends every replica (resumed first, so that none is left stopped), as expected exits. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child
        if (child === undefined) return
        slot.expectingExit = true
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
        child.kill('SIGCONT')
        child.kill('SIGKILL')
        await exited
        slot.status = 'stopped'
      }),
    )
  }

  /** Kills every replica at once, synchronously (for an exit handler). */
  killAllNow(): void {
    for (const slot of this.slots) {
      slot.expectingExit = true
      slot.child?.kill('SIGKILL')
    }
  }

  private now(): number {
    return performance.now() - this.started
  }

  private tail(index: number): string {
    try {
      const text = fs.readFileSync(this.logFile(index), 'utf8')
      return text.split('\n').slice(-12).join('\n')
    } catch {
      return ''
    }
  }

  private slot(index: number): Slot {
    const slot = this.slots[index - 1]
    if (slot === undefined) throw new Error(`no replica ${index}`)
    return slot
  }
}
