/** Figure 3's properties of logs: Leader Append-Only and Log Matching (§5.3). */
import { entryAt, lastIndex, termAt } from '../domain/log'
import type { ReplicaState } from '../domain/state'
import type { InvariantHistory } from './invariant-history'
import { describeEntry, sameEntry, type Violation } from './violation'

/** `firstChange`: the first index where the two logs hold different entry objects (or either ends). */
export const leaderAppendOnly = (before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined => {
  if (before === undefined || before.role !== 'leader' || after.role !== 'leader') return undefined
  if (before.persistent.currentTerm !== after.persistent.currentTerm) return undefined
  const was = before.persistent.log
  const now = after.persistent.log
  if (was === now) return undefined
  if (lastIndex(now) < lastIndex(was)) {
    return { invariant: 'Leader Append-Only', detail: `leader ${after.id} shrank its log from ${lastIndex(was)} to ${lastIndex(now)}` }
  }
  // A snapshot drops entries from the front (§7): that deletes nothing the log is answerable for.
  for (let i = firstChange; i <= lastIndex(was); i++) {
    if (!sameEntry(entryAt(was, i)!, entryAt(now, i)!)) {
      return {
        invariant: 'Leader Append-Only',
        detail: `leader ${after.id} replaced entry ${i} (${describeEntry(entryAt(was, i))}) by ${describeEntry(entryAt(now, i))}`,
      }
    }
  }
  return undefined
}

/**
 * Log Matching over every log ever seen, in its inductive form: every (index, term) pair always
 * comes with the same entry and the same term at index - 1. (By induction on the index, two logs
 * that agree on the pair at i then agree on every entry up to i.)
 */
export const logMatching = (h: InvariantHistory, before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined => {
  const log = after.persistent.log
  if (before?.persistent.log === log) return undefined
  for (let i = firstChange; i <= lastIndex(log); i++) {
    const entry = entryAt(log, i)!
    const prevTerm = termAt(log, i - 1)!
    const known = h.logRecords[i]?.find((r) => r.term === entry.term)
    if (known === undefined) {
      h.own()
      ;(h.logRecords[i] ??= []).push({ term: entry.term, prevTerm, entry })
    } else if (known.prevTerm !== prevTerm || !sameEntry(known.entry, entry)) {
      return {
        invariant: 'Log Matching',
        detail: `${after.id} holds ${describeEntry(entry)} at ${i} after term ${prevTerm}; seen before: ${describeEntry(known.entry)} after term ${known.prevTerm}`,
      }
    }
  }
  return undefined
}
