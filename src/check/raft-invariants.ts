/**
 * Figure 3 of the Raft paper, checked incrementally after every step of any replica:
 *
 * - Election Safety: at most one leader per term (over the whole run).
 * - Leader Append-Only: a leader never overwrites or deletes entries of its log within its term.
 * - Log Matching: two logs holding an entry with the same index and term are identical up to it.
 *   Checked over every log ever seen, in its inductive form: every (index, term) pair always comes
 *   with the same entry and the same term at index - 1.
 * - Leader Completeness: an entry committed in term T is in the log of every leader of a later term.
 * - State Machine Safety: no two replicas commit or apply different entries at one index; and each
 *   replica's key-value store equals the replay of the committed prefix it has applied.
 *
 * "Committed" is what some replica's commitIndex covers; its commit term is that replica's current
 * term when it first did (never earlier than the real commit term, so the check stays sound).
 */
import { read } from '../domain/kv'
import { entryAt, lastIndex, termAt } from '../domain/log'
import type { ReplicaState } from '../domain/state'
import type { Entry, PutCommand } from '../domain/wire'

export interface Violation {
  readonly invariant: string
  readonly detail: string
}

interface LogRecord {
  readonly term: number
  readonly prevTerm: number
  readonly entry: Entry
}

interface CommittedRecord {
  readonly entry: Entry
  readonly commitTerm: number
}

export const sameEntry = (a: Entry, b: Entry): boolean =>
  a === b || (a.term === b.term && JSON.stringify(a.command) === JSON.stringify(b.command))

const describeEntry = (e: Entry | undefined): string =>
  e === undefined ? 'nothing' : `${e.term}:${e.command.op === 'put' ? `put ${e.command.MID}=${e.command.value}` : 'noop'}`

export class RaftInvariants {
  /** term -> the replica that led it. */
  private leaders = new Map<number, string>()
  /** index -> the (term, prevTerm, entry) records seen at that index. */
  private logRecords: LogRecord[][] = []
  /** index -> the committed entry there; always a contiguous prefix from index 1. */
  private committed: CommittedRecord[] = []
  /** key -> the committed indexes of puts to that key that take effect, ascending. */
  private effectivePuts = new Map<string, number[]>()
  private appliedMids = new Set<string>()
  /** `digest()` as last computed; reset by every change to what it covers. */
  private digestText: string | undefined

  /** Set by clone() on both objects: their containers are shared until one of them changes them. */
  private shared = false

  /** A copy that goes its own way; the containers are copied only when one side first records something. */
  clone(): RaftInvariants {
    const copy = new RaftInvariants()
    copy.leaders = this.leaders
    copy.logRecords = this.logRecords
    copy.committed = this.committed
    copy.effectivePuts = this.effectivePuts
    copy.appliedMids = this.appliedMids
    copy.digestText = this.digestText
    copy.shared = true
    this.shared = true
    return copy
  }

  /** Called before any change: copies the containers this object may share with a clone. */
  private own(): void {
    if (!this.shared) return
    this.shared = false
    this.leaders = new Map(this.leaders)
    this.logRecords = this.logRecords.map((records) => [...records])
    this.committed = [...this.committed]
    this.effectivePuts = new Map([...this.effectivePuts].map(([k, v]) => [k, [...v]]))
    this.appliedMids = new Set(this.appliedMids)
  }

  /**
   * The history the checks remember, as text: two worlds of the explorer with the same replicas but
   * different histories are different states (a leader of a term seen earlier, an entry committed
   * in an earlier term, a log entry that a replica has since dropped all make later checks stricter).
   */
  digest(): string {
    return (this.digestText ??= this.computeDigest())
  }

  private computeDigest(): string {
    const leaders = [...this.leaders].sort((a, b) => a[0] - b[0]).map(([term, id]) => `${term}:${id}`)
    // Array.from, not map: a hole and an undefined element (what a clone's spread makes of a
    // hole) must give the same text.
    const records = Array.from(this.logRecords, (rs) =>
      (rs ?? [])
        .map((r) => `${r.term}/${r.prevTerm}/${JSON.stringify(r.entry)}`)
        .sort()
        .join(','),
    )
    const committed = Array.from(this.committed, (c) => (c === undefined ? '' : `${c.commitTerm}/${JSON.stringify(c.entry)}`))
    return JSON.stringify([leaders, records, committed])
  }

  get committedLength(): number {
    return this.committed.length
  }

  /**
   * Checks one replica's step from `before` (undefined after a restart or at boot) to `after`.
   * `all` holds every live replica's current state (after included), for Leader Completeness.
   */
  observe(
    before: ReplicaState | undefined,
    after: ReplicaState,
    all: readonly (ReplicaState | undefined)[],
  ): Violation | undefined {
    // Where the log stopped being the same entry objects as before the step: both log checks
    // start there (one scan of the shared prefix per step, not one per check).
    const old = before?.persistent.log
    const log = after.persistent.log
    // Entries a snapshot replaced (§7) are no longer held: the checks start after them.
    let firstChange = Math.max(log.snapshotIndex, old?.snapshotIndex ?? 0) + 1
    if (old !== undefined && old !== log) {
      const shared = Math.min(lastIndex(old), lastIndex(log))
      while (firstChange <= shared && entryAt(old, firstChange) === entryAt(log, firstChange)) firstChange++
    }
    return (
      this.electionSafety(after) ??
      this.leaderAppendOnly(before, after, firstChange) ??
      this.logMatching(before, after, firstChange) ??
      this.commits(before, after, all) ??
      this.leaderCompletenessOnElection(before, after) ??
      this.applied(before, after)
    )
  }

  private electionSafety(s: ReplicaState): Violation | undefined {
    if (s.role !== 'leader') return undefined
    const term = s.persistent.currentTerm
    const known = this.leaders.get(term)
    if (known === undefined) {
      this.own()
      this.leaders.set(term, s.id)
      this.digestText = undefined
    }
    else if (known !== s.id) {
      return { invariant: 'Election Safety', detail: `${known} and ${s.id} are both leaders of term ${term}` }
    }
    return undefined
  }

  /** `firstChange`: the first index where the two logs hold different entry objects (or either ends). */
  private leaderAppendOnly(before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined {
    if (before === undefined || before.role !== 'leader' || after.role !== 'leader') return undefined
    if (before.persistent.currentTerm !== after.persistent.currentTerm) return undefined
    const was = before.persistent.log
    const now = after.persistent.log
    if (was === now) return undefined
    if (lastIndex(now) < lastIndex(was)) {
      return { invariant: 'Leader Append-Only', detail: `leader ${after.id} shrank its log from ${lastIndex(was)} to ${lastIndex(now)}` }
    }
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

  private logMatching(before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined {
    const log = after.persistent.log
    const old = before?.persistent.log
    if (old === log) return undefined
    const from = firstChange
    if (old !== undefined) {
      if (before !== undefined && from <= before.commitIndex && from <= lastIndex(old)) {
        return {
          invariant: 'State Machine Safety',
          detail: `${after.id} changed its committed entry ${from} (commitIndex ${before.commitIndex}): ${describeEntry(entryAt(old, from))} -> ${describeEntry(entryAt(log, from))}`,
        }
      }
    }
    for (let i = from; i <= lastIndex(log); i++) {
      const entry = entryAt(log, i)!
      const prevTerm = termAt(log, i - 1)!
      const known = this.logRecords[i]?.find((r) => r.term === entry.term)
      if (known === undefined) {
        this.own()
        ;(this.logRecords[i] ??= []).push({ term: entry.term, prevTerm, entry })
        this.digestText = undefined
      } else if (known.prevTerm !== prevTerm || !sameEntry(known.entry, entry)) {
        return {
          invariant: 'Log Matching',
          detail: `${after.id} holds ${describeEntry(entry)} at ${i} after term ${prevTerm}; seen before: ${describeEntry(known.entry)} after term ${known.prevTerm}`,
        }
      }
    }
    return undefined
  }

  private commits(
    before: ReplicaState | undefined,
    after: ReplicaState,
    all: readonly (ReplicaState | undefined)[],
  ): Violation | undefined {
    const from = (before?.commitIndex ?? 0) + 1
    const log = after.persistent.log
    if (after.commitIndex > lastIndex(log)) {
      return { invariant: 'State Machine Safety', detail: `${after.id} commitIndex ${after.commitIndex} is past its log's end ${lastIndex(log)}` }
    }
    // Entries an installed snapshot covers are not held: the store check compares its contents.
    for (let i = Math.max(from, log.snapshotIndex + 1); i <= after.commitIndex; i++) {
      const entry = entryAt(log, i)!
      const known = this.committed[i]
      if (known !== undefined) {
        if (!sameEntry(known.entry, entry)) {
          return {
            invariant: 'State Machine Safety',
            detail: `${after.id} commits ${describeEntry(entry)} at ${i} where ${describeEntry(known.entry)} was committed`,
          }
        }
        continue
      }
      const commitTerm = after.persistent.currentTerm
      this.own()
      this.committed[i] = { entry, commitTerm }
      this.digestText = undefined
      this.recordEffect(i, entry)
      for (const leader of all) {
        if (leader === undefined || leader.role !== 'leader' || leader.persistent.currentTerm <= commitTerm) continue
        if (i <= leader.persistent.log.snapshotIndex) continue
        const theirs = entryAt(leader.persistent.log, i)
        if (theirs === undefined || !sameEntry(theirs, entry)) {
          return {
            invariant: 'Leader Completeness',
            detail: `${describeEntry(entry)} committed at ${i} in term ${commitTerm} by ${after.id} is missing from leader ${leader.id} of term ${leader.persistent.currentTerm} (holds ${describeEntry(theirs)})`,
          }
        }
      }
    }
    return undefined
  }

  private recordEffect(index: number, entry: Entry): void {
    const command = entry.command
    if (command.op !== 'put' || this.appliedMids.has(command.MID)) return
    this.own()
    this.appliedMids.add(command.MID)
    const indexes = this.effectivePuts.get(command.key)
    if (indexes === undefined) this.effectivePuts.set(command.key, [index])
    else indexes.push(index)
  }

  private leaderCompletenessOnElection(before: ReplicaState | undefined, after: ReplicaState): Violation | undefined {
    if (after.role !== 'leader') return undefined
    const term = after.persistent.currentTerm
    if (before !== undefined && before.role === 'leader' && before.persistent.currentTerm === term) return undefined
    const log = after.persistent.log
    for (let i = log.snapshotIndex + 1; i < this.committed.length; i++) {
      const record = this.committed[i]!
      if (record.commitTerm >= term) continue
      const theirs = entryAt(log, i)
      if (theirs === undefined || !sameEntry(theirs, record.entry)) {
        return {
          invariant: 'Leader Completeness',
          detail: `${after.id} became leader of term ${term} without ${describeEntry(record.entry)} committed at ${i} in term ${record.commitTerm} (holds ${describeEntry(theirs)})`,
        }
      }
    }
    return undefined
  }

  private applied(before: ReplicaState | undefined, after: ReplicaState): Violation | undefined {
    if (after.lastApplied > after.commitIndex) {
      return { invariant: 'State Machine Safety', detail: `${after.id} applied ${after.lastApplied} beyond commitIndex ${after.commitIndex}` }
    }
    const from = (before?.lastApplied ?? 0) + 1
    if (from > after.lastApplied) return undefined
    const touched = new Set<string>()
    for (let i = from; i <= after.lastApplied; i++) {
      const command = (this.committed[i]?.entry ?? entryAt(after.persistent.log, i))?.command
      if (command === undefined) {
        return { invariant: 'State Machine Safety', detail: `${after.id} applied entry ${i}, which nobody is known to have committed` }
      }
      if (command.op === 'put') touched.add(command.key)
    }
    for (const key of touched) {
      const expected = this.valueAt(key, after.lastApplied)
      const actual = read(after.kv, key)
      if (expected !== actual) {
        return {
          invariant: 'State Machine Safety',
          detail: `${after.id} holds ${key}=${actual} after applying ${after.lastApplied} entries; the committed log says ${expected}`,
        }
      }
    }
    return undefined
  }

  /** The value of `key` after applying the committed prefix up to `index`. */
  private valueAt(key: string, index: number): string | undefined {
    const indexes = this.effectivePuts.get(key) ?? []
    for (let k = indexes.length - 1; k >= 0; k--) {
      if (indexes[k]! <= index) return (this.committed[indexes[k]!]!.entry.command as PutCommand).value
    }
    return undefined
  }
}

