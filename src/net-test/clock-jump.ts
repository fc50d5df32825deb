/**
 * A replica's clock that check:net can move ahead, for its clock-jump fault: with
 * RAFTKV_TEST_CLOCK_JUMP_FILE set in a replica's environment, each SIGUSR2 adds the milliseconds
 * written in that file to every later reading of the replica's monotonic clock (its timers, its
 * lease, its heard-from-the-leader times: all of the runtime's `now`). Without the variable the
 * replica's clock is performance.now, untouched, and SIGUSR2 keeps Node's default.
 */
import * as fs from 'node:fs'
import { performance } from 'node:perf_hooks'

export const CLOCK_JUMP_ENV = 'RAFTKV_TEST_CLOCK_JUMP_FILE'

/** The clock a replica's environment asks for, or undefined for the ordinary one. */
export const clockFromEnvironment = (env: NodeJS.ProcessEnv, say: (line: string) => void): (() => number) | undefined => {
  const file = env[CLOCK_JUMP_ENV]
  if (file === undefined || file === '') return undefined
  let offset = 0
  process.on('SIGUSR2', () => {
    const text = (() => {
      try {
        return fs.readFileSync(file, 'utf8').trim()
      } catch {
        return ''
      }
    })()
    const jump = Number(text)
    if (!Number.isFinite(jump) || jump < 0) return say(`clock jump refused: ${file} holds ${JSON.stringify(text)}`)
    offset += jump
    say(`clock jumped ${jump} ms ahead (${offset} ms in all)`)
  })
  return () => performance.now() + offset
}

/** Moves a replica's clock: writes the jump where the replica reads it, then signals it. */
export const jumpFile = (dataDir: string): string => `${dataDir}.clock-jump`
