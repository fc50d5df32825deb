/**
 * Cleanup that happens however the harness ends: a normal return, an exception, process.exit,
 * SIGINT, SIGTERM or SIGHUP. Each cleanup is synchronous (it must run in Node's exit handler) and
 * runs once. SIGKILL cannot be caught: the next run sweeps what such a run left behind
 * (sweepStaleNamespaces), and every process the harness starts dies with it (setpriv --pdeathsig).
 */

type Cleanup = () => void

const pending = new Map<number, Cleanup>()
let nextId = 0
let installed = false

const runAll = (): void => {
  for (const [id, cleanup] of [...pending.entries()].reverse()) {
    pending.delete(id)
    if (pending.size === 0) watchSignals(false)
    try {
      cleanup()
    } catch (error) {
      process.stderr.write(`cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`)
    }
  }
}

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }

const signalHandlers = Object.entries(SIGNAL_EXIT).map(([signal, code]) => ({
  signal: signal as NodeJS.Signals,
  handler: (): void => {
    process.stderr.write(`\ncheck:net: ${signal}: removing the run's namespaces and processes\n`)
    runAll()
    process.exit(code)
  },
}))

/** The signals are taken over only while there is something to clean up. */
const watchSignals = (on: boolean): void => {
  for (const { signal, handler } of signalHandlers) {
    if (on) process.on(signal, handler)
    else process.off(signal, handler)
  }
}

/** Registers a cleanup; the returned function runs it now (and unregisters it). */
export const onCleanup = (cleanup: Cleanup): (() => void) => {
  if (!installed) {
    installed = true
    process.on('exit', runAll)
  }
  if (pending.size === 0) watchSignals(true)
  const id = nextId++
  pending.set(id, cleanup)
  return () => {
    if (!pending.delete(id)) return
    if (pending.size === 0) watchSignals(false)
    cleanup()
  }
}
