/**
 * The state machine's properties: only committed entries are applied (§5.3, Figure 2), State
 * Machine Safety (§5.4.3), and the store as the replay of the log it applied (a snapshot installed
 * included, §7).
 */
import { read, valuesOf } from '../domain/kv'
import { entryAt, lastIndex } from '../domain/log'
import type { ReplicaState } from '../domain/state'
import type { InvariantHistory } from './invariant-history'
import { describeEntry, sameEntry, type Violation } from './violation'

/**
 * Only committed entries are applied: commitIndex stays within the log and covers only entries
 * committed in the paper's sense, and lastApplied never passes commitIndex. Checked where
 * commitIndex grew, and where the log changed below it.
 */
export const onlyCommittedApplied = (h: InvariantHistory, before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined => {
  const log = after.persistent.log
  const name = 'Only committed entries are applied'
  if (after.commitIndex > lastIndex(log)) {
    return { invariant: name, detail: `${after.id} commitIndex ${after.commitIndex} is past its log's end ${lastIndex(log)}` }
  }
  if (after.lastApplied > after.commitIndex) {
    return { invariant: name, detail: `${after.id} applied ${after.lastApplied} beyond commitIndex ${after.commitIndex}` }
  }
  let from = (before?.commitIndex ?? 0) + 1
  if (before !== undefined && before.persistent.log !== log) from = Math.min(from, firstChange)
  for (let i = Math.max(from, log.snapshotIndex + 1); i <= after.commitIndex; i++) {
    const entry = entryAt(log, i)!
    const known = h.committed[i]
    if (known === undefined || !sameEntry(known.entry, entry)) {
      return {
        invariant: name,
        detail: `${after.id}'s commitIndex ${after.commitIndex} covers ${describeEntry(entry)} at ${i}, which is not committed (${known === undefined ? 'not stored on a majority in its term' : `${describeEntry(known.entry)} is`})`,
      }
    }
  }
  return undefined
}

/** State Machine Safety over every applied index, against a global record of what was applied there. */
export const stateMachineSafety = (h: InvariantHistory, before: ReplicaState | undefined, after: ReplicaState): Violation | undefined => {
  const from = (before?.lastApplied ?? 0) + 1
  for (let i = Math.max(from, after.persistent.log.snapshotIndex + 1); i <= after.lastApplied; i++) {
    const entry = entryAt(after.persistent.log, i)!
    const known = h.applied[i]
    if (known === undefined) {
      h.own()
      h.applied[i] = entry
      h.recordEffect(i, entry)
    } else if (!sameEntry(known, entry)) {
      return {
        invariant: 'State Machine Safety',
        detail: `${after.id} applies ${describeEntry(entry)} at ${i}, where ${describeEntry(known)} was applied before`,
      }
    }
  }
  return undefined
}

/**
 * The store is the replay of the applied log: for the keys this step's applied entries wrote, or
 * for every key when the step replaced the state machine by a snapshot from the leader (§7), which
 * could have lost a key or brought one no put wrote.
 */
export const storeReplaysLog = (h: InvariantHistory, before: ReplicaState | undefined, after: ReplicaState): Violation | undefined => {
  const from = (before?.lastApplied ?? 0) + 1
  if (from > after.lastApplied) return undefined
  // Only a snapshot from the leader takes the log's snapshot past what this replica had applied.
  const installed = before !== undefined && after.persistent.log.snapshotIndex > before.lastApplied
  const touched = new Set<string>(installed ? [...Object.keys(valuesOf(after.kv)), ...h.effectivePuts.keys()] : [])
  for (let i = from; i <= after.lastApplied; i++) {
    // An installed snapshot's entries are not held: what was applied there is in the record.
    const command = (entryAt(after.persistent.log, i) ?? h.applied[i])?.command
    if (command === undefined) {
      return { invariant: 'State Machine Safety', detail: `${after.id} applied entry ${i}, which no replica is known to have applied` }
    }
    if (command.op === 'put') touched.add(command.key)
  }
  for (const key of touched) {
    const expected = h.valueAt(key, after.lastApplied)
    const actual = read(after.kv, key)
    if (expected !== actual) {
      return {
        invariant: 'State Machine Safety',
        detail: `${after.id} holds ${key}=${actual} after applying ${after.lastApplied} entries; the applied log says ${expected}`,
      }
    }
  }
  return undefined
}
