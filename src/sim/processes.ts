/**
 * Replica processes: each in its own process group, killed as a group.
 */
import { ChildProcess, spawn } from 'child_process'
import * as readline from 'readline'

export interface ReplicaProcess {
  id: string
  child: ChildProcess
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  hasExited(): boolean
  /** Set when the process exited without being asked to. */
  unexpectedExit?: string
}

/** Every group this process started and has not yet seen exit: killed on our own exit, whatever happens. */
const liveGroups = new Set<number>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const pid of liveGroups) signalGroup(pid, 'SIGKILL')
  })
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // Already gone.
  }
}

export interface SpawnOptions {
  program: string
  args: string[]
  cwd: string
  /** Environment variables added to kvsim's own. */
  env?: Record<string, string>
  /** Called with each output line when the replica's output is shown; undefined means /dev/null. */
  onLine?: (line: string) => void
}

export function spawnReplica(id: string, options: SpawnOptions): ReplicaProcess {
  installExitHook()
  const child = spawn(options.program, options.args, {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : { ...process.env, ...options.env },
    detached: true,
    stdio: options.onLine ? ['ignore', 'pipe', 'pipe'] : 'ignore',
  })
  let done = false
  const record: ReplicaProcess = {
    id,
    child,
    hasExited: () => done,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        done = true
        if (child.pid !== undefined) liveGroups.delete(child.pid)
        resolve({ code, signal })
      })
      child.once('error', (error) => {
        done = true
        record.unexpectedExit = `could not start: ${error.message}`
        resolve({ code: null, signal: null })
      })
    }),
  }
  if (child.pid !== undefined) liveGroups.add(child.pid)
  if (options.onLine) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue
      stream.setEncoding('utf8')
      readline.createInterface({ input: stream }).on('line', options.onLine)
    }
  }
  return record
}

/**
 * A crash: SIGKILL to the group (nothing the replica could flush or sync on the way out), then wait
 * for the process to be gone.
 */
export async function crash(replica: ReplicaProcess): Promise<void> {
  const pid = replica.child.pid
  if (pid === undefined || replica.hasExited()) return
  signalGroup(pid, 'SIGKILL')
  await replica.exited
  liveGroups.delete(pid)
}

/**
 * A graceful stop: SIGTERM to the group, then wait. Returns how long the exit took (seconds); after `graceSeconds`
 * the group gets SIGKILL so that a stuck replica cannot freeze the simulator.
 */
export async function terminate(replica: ReplicaProcess, graceSeconds = 3): Promise<number> {
  const pid = replica.child.pid
  const started = performance.now()
  if (pid === undefined || replica.hasExited()) return 0
  signalGroup(pid, 'SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceSeconds * 1000)
  })
  const outcome = await Promise.race([replica.exited, timeout])
  clearTimeout(timer)
  if (outcome === 'timeout') {
    signalGroup(pid, 'SIGKILL')
    await replica.exited
  }
  // Anything else left in the group (children of the replica) goes too.
  signalGroup(pid, 'SIGKILL')
  liveGroups.delete(pid)
  return (performance.now() - started) / 1000
}
