/**
 * What a step must make durable (Figure 2: persistent state is "updated on stable storage before
 * responding to RPCs"; §7: and the snapshot). The persistent state is replaced whole when a handler
 * changes it, so the change is found by comparing the state before and after the step: the hard
 * state when the term or the vote moved, the snapshot when it was replaced, and the log from the
 * first entry that is not the same entry as before.
 */
import { sameOptionalId } from './ids'
import type { Effect, HardState, LogWrite, SnapshotWrite } from './effect'
import { entryAt, lastIndex, withEntries, type Log } from './log'
import { isMajorityOf } from './quorum'
import { withPersistent, type PersistentState, type ReplicaState } from './state'
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
 * Which of a step's messages must wait for that step's own persist, for a runtime that sends the
 * others first and steps nothing more until it is durable (the real cluster's batched runtime,
 * which meanwhile reads what arrives). Figure 2: persistent state is "updated on stable storage
 * before responding to RPCs", so a reply to an RPC (an AppendEntries, vote or InstallSnapshot
 * reply), which vouches for what its step stored, leaves once that persist is durable.
 *
 * Every other message may leave before its own step's persist, every earlier one being durable:
 * thesis §10.2.1, "the leader can write to its disk in parallel with replicating to the followers
 * and committing entries", provided it counts its own entries toward a majority only once they are
 * durable. A leader counts its whole log in every step, but no step can count toward a commit the
 * entries it appends itself, which no follower has yet (in a cluster of two or more: a lone replica
 * is a majority by itself: commitsAlone); so what a message reveals as committed (a commit index in an
 * AppendEntries, a client's answer) is stored by a majority, the leader included, when it leaves.
 * The same holds for a candidate's own vote: stored before anything it sends as the leader that
 * vote helped elect. A runtime that persists before it sends anything of a step (the course's)
 * satisfies this trivially.
 */
export const awaitsOwnPersist = (message: Message): boolean =>
  message.type === 'appendReply' || message.type === 'voteReply' || message.type === 'snapshotReply'

/**
 * Whether this replica's own copy is a majority of its configuration's voters by itself (a lone
 * voter, thesis ch. 4): then a step may commit what it appends, and every message of that step
 * waits for its persist (awaitsOwnPersist's argument needs another voter's copy).
 */
export const commitsAlone = (s: ReplicaState): boolean => isMajorityOf(s.configuration.voters, [s.id])

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
export const withLogWrite = (log: Log, write: LogWrite): Log =>
  withEntries(log, [...log.entries.slice(0, Math.max(0, write.from - log.snapshotIndex - 1)), ...write.entries])

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
