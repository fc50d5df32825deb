/**
 * The replicated log, with its compacted prefix (§7). Entries up to `snapshotIndex` have been
 * applied and replaced by a snapshot of the state machine; the log keeps the index and term of the
 * last of them ("lastIncludedIndex" and "lastIncludedTerm") so that the consistency check of
 * AppendEntries works for the entry right after it. Indices are Raft indices throughout: the first
 * entry ever is 1, and index `snapshotIndex` (0 before any snapshot) has the term `snapshotTerm`.
 */
import type { Entry } from './wire'

export interface Log {
  /** §7: the last index the snapshot replaces (0: none). */
  readonly snapshotIndex: number
  /** §7: the term of that entry (0: none). */
  readonly snapshotTerm: number
  /** The entries after the snapshot: `entries[k]` is the entry at index `snapshotIndex + 1 + k`. */
  readonly entries: readonly Entry[]
}

export const emptyLog: Log = Object.freeze({ snapshotIndex: 0, snapshotTerm: 0, entries: Object.freeze([]) })

/** A log of `entries` from index 1 on, with no snapshot (tests and checkers build logs so). */
export const logOf = (entries: readonly Entry[]): Log => ({ snapshotIndex: 0, snapshotTerm: 0, entries })

/**
 * A new log with `entries` after the last one. Not frozen: freezing walks the whole array on every
 * append. The type is readonly, so the compiler rejects a write, and the tests freeze every state.
 */
export const appendToLog = (log: Log, entries: readonly Entry[]): Log => withEntries(log, [...log.entries, ...entries])

/** The log with `entries` after the same snapshot (named fields, no spread: state.ts, withState). */
export const withEntries = (log: Log, entries: readonly Entry[]): Log => ({ snapshotIndex: log.snapshotIndex, snapshotTerm: log.snapshotTerm, entries })

export const lastIndex = (log: Log): number => log.snapshotIndex + log.entries.length

export const lastTerm = (log: Log): number =>
  log.entries.length === 0 ? log.snapshotTerm : log.entries[log.entries.length - 1]!.term

/** The first index the log still holds an entry for. */
export const firstIndex = (log: Log): number => log.snapshotIndex + 1

/** The entry at `index`, or undefined when it is past the end or compacted away. */
export const entryAt = (log: Log, index: number): Entry | undefined =>
  index > log.snapshotIndex ? log.entries[index - log.snapshotIndex - 1] : undefined

/**
 * The term of the entry at `index`: known for every entry held and for the snapshot's last entry;
 * undefined past the end and before the snapshot's last entry.
 */
export const termAt = (log: Log, index: number): number | undefined =>
  index === log.snapshotIndex ? log.snapshotTerm : entryAt(log, index)?.term

/**
 * §5.4.1: "If the logs have last entries with different terms, then the log with the later term is
 * more up-to-date. If the logs end with the same term, then whichever log is longer is more
 * up-to-date." True when a candidate's log (given by its last index and term) is at least as
 * up-to-date as `log`.
 */
export const isUpToDate = (log: Log, candidateLastIndex: number, candidateLastTerm: number): boolean =>
  candidateLastTerm > lastTerm(log) || (candidateLastTerm === lastTerm(log) && candidateLastIndex >= lastIndex(log))

/** At most `max` entries starting at `from` (which must be after the snapshot). */
export const entriesFrom = (log: Log, from: number, max: number): Entry[] => {
  const start = from - log.snapshotIndex - 1
  return log.entries.slice(start, start + max)
}

/** The first index holding an entry of the term at `index`, searching back from it (not past the snapshot). */
export const firstIndexOfTermAt = (log: Log, index: number): number => {
  const term = termAt(log, index)
  let first = index
  while (first > firstIndex(log) && termAt(log, first - 1) === term) first--
  return first
}

/** The last index holding an entry of `term`, or undefined if the log's entries have none. */
export const lastIndexOfTerm = (log: Log, term: number): number | undefined => {
  for (let i = lastIndex(log); i > log.snapshotIndex; i--) {
    const t = termAt(log, i)!
    if (t === term) return i
    if (t < term) return undefined
  }
  return undefined
}

/**
 * Figure 2, AppendEntries steps 3 and 4: "If an existing entry conflicts with a new one (same index
 * but different terms), delete the existing entry and all that follow it. Append any new entries
 * not already in the log." Entries that already match are kept, so a stale, reordered
 * AppendEntries never truncates what a newer one appended. Entries the snapshot covers are
 * committed, so they match the leader's (Log Matching) and are skipped.
 */
export const mergeEntries = (log: Log, prevLogIndex: number, entries: readonly Entry[]): Log => {
  for (let k = Math.max(0, log.snapshotIndex - prevLogIndex); k < entries.length; k++) {
    const index = prevLogIndex + 1 + k
    const existing = termAt(log, index)
    if (existing === undefined) {
      return appendToLog(log, entries.slice(k))
    }
    if (existing !== entries[k]!.term) {
      const kept = index - log.snapshotIndex - 1
      return withEntries(log, [...log.entries.slice(0, kept), ...entries.slice(k)])
    }
  }
  return log
}

/**
 * §7: the log after a snapshot of everything up to `index` (which it holds): the entries after it
 * stay, the ones up to it are dropped.
 */
export const compactLog = (log: Log, index: number): Log => ({
  snapshotIndex: index,
  snapshotTerm: termAt(log, index)!,
  entries: log.entries.slice(index - log.snapshotIndex),
})

/**
 * Figure 13, InstallSnapshot receiver steps 6 and 7: "If existing log entry has same index and term
 * as snapshot's last included entry, retain log entries following it and reply. Discard the
 * entire log".
 */
export const logAfterInstalledSnapshot = (log: Log, index: number, term: number): Log =>
  index <= lastIndex(log) && index >= log.snapshotIndex && termAt(log, index) === term
    ? compactLog(log, index)
    : { snapshotIndex: index, snapshotTerm: term, entries: [] }
