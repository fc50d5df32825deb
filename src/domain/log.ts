/**
 * The replicated log. Index 0 holds a sentinel entry of term 0 so that a log's array index is its
 * Raft index and `prevLogIndex = 0` always matches (§5.3).
 */
import type { Entry } from './wire'

export type Log = readonly Entry[]

export const emptyLog: Log = Object.freeze([{ term: 0, command: { op: 'noop' } }])

/**
 * A new log with `entries` after the last one. Not frozen: freezing walks the whole array on every
 * append. The type is readonly, so the compiler rejects a write, and the tests freeze every state.
 */
export const appendToLog = (log: Log, entries: readonly Entry[]): Log => [...log, ...entries]

export const lastIndex = (log: Log): number => log.length - 1

export const lastTerm = (log: Log): number => log[log.length - 1]?.term ?? 0

/** The term of the entry at `index`, or undefined past the end. */
export const termAt = (log: Log, index: number): number | undefined => log[index]?.term

/**
 * §5.4.1: "If the logs have last entries with different terms, then the log with the later term is
 * more up-to-date. If the logs end with the same term, then whichever log is longer is more
 * up-to-date." True when a candidate's log (given by its last index and term) is at least as
 * up-to-date as `log`.
 */
export const isUpToDate = (log: Log, candidateLastIndex: number, candidateLastTerm: number): boolean =>
  candidateLastTerm > lastTerm(log) || (candidateLastTerm === lastTerm(log) && candidateLastIndex >= lastIndex(log))

/** At most `max` entries starting at `from`. */
export const entriesFrom = (log: Log, from: number, max: number): Entry[] => log.slice(from, from + max)

/** The first index holding an entry of `term`, searching back from `index`. */
export const firstIndexOfTermAt = (log: Log, index: number): number => {
  const term = termAt(log, index)
  let first = index
  while (first > 1 && termAt(log, first - 1) === term) first--
  return first
}

/** The last index holding an entry of `term`, or undefined if the log has none. */
export const lastIndexOfTerm = (log: Log, term: number): number | undefined => {
  for (let i = lastIndex(log); i > 0; i--) {
    const t = termAt(log, i)!
    if (t === term) return i
    if (t < term) return undefined
  }
  return undefined
}

/** The result of merging a leader's entries after a matching `prevLogIndex`. */
export interface MergeResult {
  readonly log: Log
  /** Entries removed because they conflicted with the leader's (§5.3, step 3 of Figure 2). */
  readonly removed: readonly Entry[]
}

/**
 * Figure 2, AppendEntries steps 3 and 4: "If an existing entry conflicts with a new one (same index
 * but different terms), delete the existing entry and all that follow it. Append any new entries
 * not already in the log." Entries that already match are kept, so a stale, reordered
 * AppendEntries never truncates what a newer one appended.
 */
export const mergeEntries = (log: Log, prevLogIndex: number, entries: readonly Entry[]): MergeResult => {
  for (let k = 0; k < entries.length; k++) {
    const index = prevLogIndex + 1 + k
    const existing = termAt(log, index)
    if (existing === undefined) {
      return { log: appendToLog(log, entries.slice(k)), removed: [] }
    }
    if (existing !== entries[k]!.term) {
      return { log: appendToLog(log.slice(0, index), entries.slice(k)), removed: log.slice(index) }
    }
  }
  return { log, removed: [] }
}
