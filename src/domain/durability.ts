/**
 * What a step must make durable (Figure 2: persistent state is "updated on stable storage before
 * responding to RPCs"; §7: and the snapshot). The persistent state is replaced whole when a handler
 * changes it, so the change is found by comparing the state before and after the step: the hard
 * state when the term or the vote moved, the snapshot when it was replaced, and the log from the
 * first entry that is not the same entry as before.
 */
import { sameOptionalId } from './ids'
import type { Effect, HardState, LogWrite, SnapshotWrite } from './effect'
import { entryAt, lastIndex, type Log } from './log'
import { withPersistent, type PersistentState } from './state'
import type { Message } from './wire'

/** The persist effect for the change from `before` to `after`, or undefined when nothing changed. */
export const persistEffect = (before: PersistentState, after: PersistentState): Effect | undefined => {
  if (before === after) return undefined
  const hardStateChanged =
    before.currentTerm !== after.currentTerm || !sameOptionalId(before.votedFor, after.votedFor)
  // A snapshot of only no-ops is the same store as the one before it: the index tells it apart.
  const snapshotChanged =
    before.snapshot !== after.snapshot ||
    before.log.snapshotIndex !== after.log.snapshotIndex ||
    before.snapshotConfiguration !== after.snapshotConfiguration
  const snapshot = snapshotChanged ? snapshotWrite(after) : undefined
  const log = logWrite(before.log, after.log)
  if (!hardStateChanged && snapshot === undefined && log === undefined) return undefined
  return {
    kind: 'persist',
    hardState: hardStateChanged ? { currentTerm: after.currentTerm, votedFor: after.votedFor } : undefined,
    snapshot,
    log,
  }
}

const snapshotWrite = (s: PersistentState): SnapshotWrite => ({
  index: s.log.snapshotIndex,
  term: s.log.snapshotTerm,
  state: s.snapshot,
  ...(s.snapshotConfiguration === undefined ? {} : { configuration: s.snapshotConfiguration }),
})

/**
 * The write that turns the stored log `before` into `after`, for the entries after `after`'s
 * snapshot (a snapshot write drops the ones up to it). A log only changes by appending, by dropping
 * a suffix and appending (mergeEntries), or by dropping a prefix (a snapshot), and entries kept are
 * the same objects: so when the last entry of `before` is still in place, the change is an append.
 */
export const logWrite = (before: Log, after: Log): LogWrite | undefined => {
  if (before === after) return undefined
  const kept = after.snapshotIndex
  const beforeLast = lastIndex(before)
  const afterLast = lastIndex(after)
  let from = kept + 1
  if (beforeLast > kept && beforeLast <= afterLast && entryAt(after, beforeLast) === entryAt(before, beforeLast)) {
    from = beforeLast + 1
  } else {
    while (from <= beforeLast && from <= afterLast && entryAt(before, from) === entryAt(after, from)) from++
  }
  // Nothing to append and nothing stored to drop.
  if (from > afterLast && from > beforeLast) return undefined
  return { from, entries: after.entries.slice(from - kept - 1) }
}

/**
 * Thesis §10.2.1: "the leader can write to its disk in parallel with replicating to the followers
 * and committing entries", provided it counts its own entries toward a majority only once they are
 * durable. So an AppendEntries may leave before the persist of the step that made it, for a runtime
 * whose persist returns only once durable and handles no answer before it has returned (the real
 * cluster's batched runtime): by the time any follower's acknowledgement is handled, the leader's own
 * copy is durable. A leader that crashes first loses entries no majority has acknowledged to it, so
 * none of them was committed; it cannot append others in that term again. Everything else (votes,
 * acknowledgements, answers to clients) still waits for the persist.
 */
export const mayPrecedePersist = (message: Message): boolean => message.type === 'append'

/** The stored persistent state after a persist effect's writes: what a restarted replica recovers. */
export const afterWrites = (
  stored: PersistentState,
  hardState: HardState | undefined,
  log: LogWrite | undefined,
  snapshot: SnapshotWrite | undefined,
): PersistentState => {
  let next = stored
  if (hardState !== undefined) next = withPersistent(next, { currentTerm: hardState.currentTerm, votedFor: hardState.votedFor })
  if (snapshot !== undefined) next = withSnapshot(next, snapshot)
  if (log !== undefined) next = withPersistent(next, { log: withLogWrite(next.log, log) })
  return next
}

/** The stored log after `write`: the entries before `write.from` kept, the rest replaced. */
export const withLogWrite = (log: Log, write: LogWrite): Log => ({
  ...log,
  entries: [...log.entries.slice(0, Math.max(0, write.from - log.snapshotIndex - 1)), ...write.entries],
})

/** The stored state after a snapshot write: the snapshot replaced, the log's entries up to its index dropped and the rest kept. */
const withSnapshot = (stored: PersistentState, snapshot: SnapshotWrite): PersistentState => {
  const log = stored.log
  const kept = log.entries.slice(Math.max(0, snapshot.index - log.snapshotIndex))
  return withPersistent(stored, {
    snapshot: snapshot.state,
    log: { snapshotIndex: snapshot.index, snapshotTerm: snapshot.term, entries: kept },
    snapshotConfiguration: snapshot.configuration,
  })
}
