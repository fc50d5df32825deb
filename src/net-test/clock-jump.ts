/**
 * A replica's clock that check:net can move, for its clock-jump fault: with
 * RAFTKV_TEST_CLOCK_JUMP_FILE set in a replica's environment, the replica reads that file every
 * 100 ms, and the milliseconds written there (a running total: each jump adds to it) are added to
 * every later reading of its monotonic clock (its timers, its lease, its heard-from-the-leader
 * times: all of the runtime's `now`). A file, not a signal: a signal that reached a replica still
 * starting, before it had a handler, would kill it. Without the variable the replica's clock is
 * performance.now, untouched.
 *
 * A jump back is how check:net freezes a paused replica's clock with it, as a paused virtual
 * machine's monotonic clock stops: set back by the length of the pause before the replica is
 * woken, its clock reads on from where it stopped (its 100 ms poll is the first timer due on
 * waking, so its other timers see the clock set back).
 */
import * as fs from 'node:fs'
import { performance } from 'node:perf_hooks'

export const CLOCK_JUMP_ENV = 'RAFTKV_TEST_CLOCK_JUMP_FILE'

const readTotal = (file: string): number => {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim())
    return Number.isFinite(n) ? n : 0
  } catch {
    return 0
  }
}

/** The clock a replica's environment asks for, or undefined for the ordinary one. */
export const clockFromEnvironment = (env: NodeJS.ProcessEnv, say: (line: string) => void): (() => number) | undefined => {
  const file = env[CLOCK_JUMP_ENV]
  if (file === undefined || file === '') return undefined
  let offset = readTotal(file)
  setInterval(() => {
    const total = readTotal(file)
    if (total === offset) return
    say(`clock jumped ${Math.abs(total - offset)} ms ${total > offset ? 'ahead' : 'back'} (${total} ms in all)`)
    offset = total
  }, 100).unref()
  return () => performance.now() + offset
}

/** Where check:net writes a replica's total jump. */
export const jumpFile = (dataDir: string): string => `${dataDir}.clock-jump`

/** Moves a replica's clock `jumpMs` ahead, or back if negative (it notices within 100 ms). */
export const jumpClock = (dataDir: string, jumpMs: number): void => {
  const file = jumpFile(dataDir)
  fs.writeFileSync(file, `${readTotal(file) + jumpMs}\n`)
}
