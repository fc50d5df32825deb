/**
 * What a step must make durable (Figure 2: persistent state is "updated on stable storage before
 * responding to RPCs"). The persistent state is replaced whole when a handler changes it, so the
 * change is found by comparing the state before and after the step: the hard state when the term
 * or the vote moved, and the log from the first entry that is not the same entry as before.
 */
import { sameOptionalId } from './ids'
import type { Effect, HardState, LogWrite } from '../effects/effect'
import type { Log } from './log'
import { withPersistent, type PersistentState } from './state'

/** The persist effect for the change from `before` to `after`, or undefined when nothing changed. */
export const persistEffect = (before: PersistentState, after: PersistentState): Effect | undefined => {
  if (before === after) return undefined
  const hardStateChanged =
    before.currentTerm !== after.currentTerm || !sameOptionalId(before.votedFor, after.votedFor)
  const log = logWrite(before.log, after.log)
  if (!hardStateChanged && log === undefined) return undefined
  return {
    kind: 'persist',
    hardState: hardStateChanged ? { currentTerm: after.currentTerm, votedFor: after.votedFor } : undefined,
    log,
  }
}

/**
 * The write that turns the stored `before` into `after`. A log only changes by appending, or by
 * dropping a suffix and appending (mergeEntries), and entries kept are the same objects: so when
 * the last entry of `before` is still in place, the change is an append.
 */
export const logWrite = (before: Log, after: Log): LogWrite | undefined => {
  if (before === after) return undefined
  const last = before.length - 1
  if (after.length > last && after[last] === before[last]) {
    return after.length === before.length ? undefined : { from: before.length, entries: after.slice(before.length) }
  }
  let from = 1
  while (from < before.length && from < after.length && before[from] === after[from]) from++
  return { from, entries: after.slice(from) }
}

/** The stored persistent state after a persist effect's writes: what a restarted replica recovers. */
export const afterWrites = (stored: PersistentState, hardState: HardState | undefined, log: LogWrite | undefined): PersistentState =>
  withPersistent(stored, {
    ...(hardState === undefined ? {} : { currentTerm: hardState.currentTerm, votedFor: hardState.votedFor }),
    ...(log === undefined ? {} : { log: [...stored.log.slice(0, log.from), ...log.entries] }),
  })
