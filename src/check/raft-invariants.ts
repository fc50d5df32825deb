/**
 * Figure 3 of the Raft paper ("Raft guarantees that each of these properties is true at all
 * times"), checked incrementally after every step of any replica, over all replicas (crashed and
 * deposed ones included, through what the checks remember of them) and all time:
 *
 * - Election Safety (§5.2): "at most one leader can be elected in a given term."
 * - Leader Append-Only (§5.3): "a leader never overwrites or deletes entries in its log; it only
 *   appends new entries."
 * - Log Matching (§5.3): "if two logs contain an entry with the same index and term, then the logs
 *   are identical in all entries up through the given index."
 * - Leader Completeness (§5.4): "if a log entry is committed in a given term, then that entry will
 *   be present in the logs of the leaders for all higher-numbered terms."
 * - State Machine Safety (§5.4.3): "if a server has applied a log entry at a given index to its
 *   state machine, no other server will ever apply a different log entry for the same index."
 *
 * "Committed" is the paper's, not a replica's commitIndex (§5.3): "A log entry is committed once the
 * leader that created the entry has replicated it on a majority of the servers ... This also
 * commits all preceding entries in the leader's log". An entry of term T is created by the leader
 * of T, and a replica stores it for that leader only while its own current term is T; so an entry
 * of term T at index i is committed, in term T, once a majority of replicas have each held it (with
 * their current term T) at some moment, and with it every entry before i (§5.4.2's indirect
 * commitment). Figure 8's entry of term 2, stored on a majority in term 4, is therefore not
 * committed by that alone.
 *
 * Besides Figure 3, two rules it rests on:
 * - Only committed entries are applied (§5.3: "The leader decides when it is safe to apply a log
 *   entry to the state machines; such an entry is called committed"): a replica's commitIndex
 *   covers only committed entries, and lastApplied never passes commitIndex (Figure 2).
 * - The store is the replay of the log it applied: a replica's value of each key it just wrote
 *   equals the value the applied entries give it.
 *
 * Thesis ch. 4, membership changes: "a majority" is of the voters of a configuration the term's
 * leader used (it counts with the latest configuration in its log, so a term can see several);
 * stored on a majority of the voters of any of them commits. Two rules of the thesis's
 * single-server changes are checked as such, since a bug in them shows in Figure 3 only in rare
 * interleavings:
 * - Configuration from the log (§4.1): "a server always uses the latest configuration in its log,
 *   regardless of whether the entry is committed" (else the snapshot's, else the first one);
 * - One configuration change at a time (§4.1, with the fix of 2015): a leader appends a
 *   configuration entry only when every configuration entry before it is committed, and so is an
 *   entry of its own term.
 *
 * §7: a replica's log no longer holds the entries its snapshot replaced. Those were applied, so
 * committed: the checks of entries start after a log's snapshot, what was applied at an index the
 * log no longer holds is taken from the global record, and a snapshot installed is checked through
 * the store it brings (the keys its entries wrote must hold what the applied log gives them).
 */
import { read, valuesOf } from '../domain/kv'
import { entryAt, lastIndex, termAt, type Log } from '../domain/log'
import { carriesConfiguration, configurationAt, describeConfiguration, fromData, isConfigEntry, sameConfiguration, type Configuration } from '../domain/membership'
import { majority } from '../domain/quorum'
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

/** A term's leader, and its log the moment it became leader (a leader only appends after that). */
interface LeaderRecord {
  readonly id: string
  readonly log: Log
}

interface CommittedRecord {
  readonly entry: Entry
  /** The lowest term in which it was committed (the check against later leaders is strictest there). */
  readonly commitTerm: number
}

export const sameEntry = (a: Entry, b: Entry): boolean =>
  a === b || (a.term === b.term && JSON.stringify(a.command) === JSON.stringify(b.command))

const describeEntry = (e: Entry | undefined): string =>
  e === undefined
    ? 'nothing'
    : `${e.term}:${e.command.op === 'put' ? `put ${e.command.MID}=${e.command.value}` : e.command.op === 'config' ? `config(${describeConfiguration(fromData(e.command))})` : 'noop'}`

/** The highest index that a majority of `voters` reach in `held` (0 when fewer hold anything). */
const majorityPoint = (held: ReadonlyMap<string, number>, voters: readonly string[]): number => {
  const indexes = voters.map((id) => held.get(id) ?? 0).sort((a, b) => b - a)
  return indexes[majority(voters.length) - 1] ?? 0
}

export class RaftInvariants {
  /** term -> the replica that led it, and its log when it took office. */
  private leaders = new Map<number, LeaderRecord>()
  /** index -> the (term, prevTerm, entry) records seen at that index. */
  private logRecords: LogRecord[][] = []
  /** term -> replica -> the highest index it has held while its current term was T, with an entry of term T there. */
  private storedInTerm = new Map<number, Map<string, number>>()
  /** term -> every configuration its leader used in it (the one it took office with, and each it appended). */
  private leaderConfigurations = new Map<number, Configuration[]>()
  /** term -> the highest index stored on a majority of one of those configurations so far. */
  private pointInTerm = new Map<number, number>()
  /** replica -> the indexes of the configuration entries in its log, ascending (what §4.1 says it must use). */
  private configIndexes = new Map<string, number[]>()
  /** index -> the committed entry there; always a contiguous prefix from index 1. */
  private committed: CommittedRecord[] = []
  /** index -> the entry first applied there by any replica. */
  private applied: Entry[] = []
  /** key -> the applied indexes of puts to that key that take effect, ascending. */
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
    copy.leaderConfigurations = this.leaderConfigurations
    copy.pointInTerm = this.pointInTerm
    copy.configIndexes = this.configIndexes
    copy.logRecords = this.logRecords
    copy.storedInTerm = this.storedInTerm
    copy.committed = this.committed
    copy.applied = this.applied
    copy.effectivePuts = this.effectivePuts
    copy.appliedMids = this.appliedMids
    copy.digestText = this.digestText
    copy.shared = true
    this.shared = true
    return copy
  }

  /** Called before any change: copies the containers this object may share with a clone, and drops the cached digest. */
  private own(): void {
    this.digestText = undefined
    if (!this.shared) return
    this.shared = false
    this.leaders = new Map(this.leaders)
    this.leaderConfigurations = new Map([...this.leaderConfigurations].map(([term, cs]) => [term, [...cs]]))
    this.pointInTerm = new Map(this.pointInTerm)
    this.configIndexes = new Map([...this.configIndexes].map(([id, indexes]) => [id, [...indexes]]))
    this.logRecords = this.logRecords.map((records) => [...records])
    this.storedInTerm = new Map([...this.storedInTerm].map(([term, held]) => [term, new Map(held)]))
    this.committed = [...this.committed]
    this.applied = [...this.applied]
    this.effectivePuts = new Map([...this.effectivePuts].map(([k, v]) => [k, [...v]]))
    this.appliedMids = new Set(this.appliedMids)
  }

  /**
   * The history the checks remember, as text: two worlds of the explorer with the same replicas but
   * different histories are different states (a leader of a term seen earlier and its log, an entry
   * stored in an earlier term, one committed or applied earlier, a log entry that a replica has
   * since dropped all make later checks stricter).
   */
  digest(): string {
    return (this.digestText ??= this.computeDigest())
  }

  private computeDigest(): string {
    const leaders = [...this.leaders]
      .sort((a, b) => a[0] - b[0])
      .map(([term, leader]) => `${term}:${leader.id}:${leader.log.snapshotIndex}:${leader.log.entries.map((e) => JSON.stringify(e)).join(';')}`)
    // Array.from, not map: a hole and an undefined element (what a clone's spread makes of a
    // hole) must give the same text.
    const records = Array.from(this.logRecords, (rs) =>
      (rs ?? [])
        .map((r) => `${r.term}/${r.prevTerm}/${JSON.stringify(r.entry)}`)
        .sort()
        .join(','),
    )
    const stored = [...this.storedInTerm]
      .sort((a, b) => a[0] - b[0])
      .map(([term, held]) => `${term}:${[...held].sort().map(([id, index]) => `${id}=${index}`).join(',')}`)
    const committed = Array.from(this.committed, (c) => (c === undefined ? '' : `${c.commitTerm}/${JSON.stringify(c.entry)}`))
    const applied = Array.from(this.applied, (e) => (e === undefined ? '' : JSON.stringify(e)))
    const configurations = [...this.leaderConfigurations]
      .sort((a, b) => a[0] - b[0])
      .map(([term, cs]) => `${term}:${cs.map(describeConfiguration).join('/')}`)
    return JSON.stringify([leaders, records, stored, committed, applied, configurations])
  }

  /** 1 + the highest committed index (0 before anything is committed). */
  get committedLength(): number {
    return this.committed.length
  }

  /**
   * Checks one replica's step from `before` (undefined after a restart or at boot) to `after`.
   * The other replicas need not be passed: what the checks need of them, they remember.
   */
  observe(before: ReplicaState | undefined, after: ReplicaState): Violation | undefined {
    // Where the log stopped being the same entry objects as before the step: the log checks
    // start there (one scan of the shared prefix per step, not one per check).
    const old = before?.persistent.log
    const log = after.persistent.log
    let firstChange = Math.max(log.snapshotIndex, old?.snapshotIndex ?? 0) + 1
    if (old !== undefined && old !== log) {
      const shared = Math.min(lastIndex(old), lastIndex(log))
      while (firstChange <= shared && entryAt(old, firstChange) === entryAt(log, firstChange)) firstChange++
    }
    return (
      this.electionSafety(after) ??
      this.configurationFromLog(before, after, firstChange) ??
      this.leaderAppendOnly(before, after, firstChange) ??
      this.logMatching(before, after, firstChange) ??
      this.commitment(after) ??
      // Two replicas applying different entries at one index is reported as such, before the
      // commit rule that one of them must have broken to get there.
      this.stateMachineSafety(before, after) ??
      this.onlyCommittedApplied(before, after, firstChange) ??
      this.storeReplaysLog(before, after)
    )
  }

  /**
   * Election Safety, over the whole run: the first replica seen leading a term is its leader, and
   * no other may lead it, even after the first crashed or was deposed. A new leader's log is kept
   * for Leader Completeness, and checked at once against everything committed in earlier terms.
   */
  private electionSafety(s: ReplicaState): Violation | undefined {
    if (s.role !== 'leader') return undefined
    const term = s.persistent.currentTerm
    const known = this.leaders.get(term)
    if (known !== undefined) {
      if (known.id !== s.id) return { invariant: 'Election Safety', detail: `${known.id} and ${s.id} are both leaders of term ${term}` }
      const used = this.leaderConfigurations.get(term)!
      if (!sameConfiguration(used[used.length - 1]!, s.configuration)) {
        this.own()
        this.leaderConfigurations.get(term)!.push(s.configuration)
      }
      return undefined
    }
    this.own()
    const log = s.persistent.log
    this.leaders.set(term, { id: s.id, log })
    this.leaderConfigurations.set(term, [s.configuration])
    // What its snapshot replaced it applied, so it was committed: the entries it holds are checked.
    for (let i = log.snapshotIndex + 1; i < this.committed.length; i++) {
      const record = this.committed[i]!
      if (record.commitTerm >= term) continue
      const theirs = entryAt(log, i)
      if (theirs === undefined || !sameEntry(theirs, record.entry)) {
        return {
          invariant: 'Leader Completeness',
          detail: `${s.id} became leader of term ${term} without ${describeEntry(record.entry)} committed at ${i} in term ${record.commitTerm} (holds ${describeEntry(theirs)})`,
        }
      }
    }
    return undefined
  }

  /**
   * §4.1: the configuration a replica uses is the latest in its log, committed or not (else its
   * snapshot's, else the cluster's first), kept from the configuration entries' indexes, which
   * change only where the log changed. And a leader appends a configuration entry only when the
   * configuration entries before it, and an entry of its own term, are committed.
   */
  private configurationFromLog(before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined {
    const log = after.persistent.log
    const changed = before === undefined || before.persistent.log !== log
    if (!changed && before.configuration === after.configuration && before.persistent.snapshotConfiguration === after.persistent.snapshotConfiguration) {
      return undefined
    }
    const known = before === undefined ? [] : (this.configIndexes.get(after.id) ?? [])
    // The common step: entries appended after the last configuration entry, none of them one.
    if (
      before !== undefined &&
      before.configuration === after.configuration &&
      before.persistent.snapshotConfiguration === after.persistent.snapshotConfiguration &&
      (known.length === 0 || known[known.length - 1]! < firstChange) &&
      !carriesConfiguration(log.entries.slice(Math.max(0, firstChange - log.snapshotIndex - 1)))
    ) {
      return undefined
    }
    const kept = known.filter((i) => i < firstChange && i > log.snapshotIndex)
    const added: number[] = []
    for (let i = Math.max(firstChange, log.snapshotIndex + 1); i <= lastIndex(log); i++) if (isConfigEntry(entryAt(log, i)!)) added.push(i)
    const indexes = [...kept, ...added]
    if (indexes.length !== known.length || indexes.some((index, k) => known[k] !== index)) {
      this.own()
      this.configIndexes.set(after.id, indexes)
    }
    const latest = indexes[indexes.length - 1]
    const expected =
      latest === undefined ? (after.persistent.snapshotConfiguration ?? after.initialConfiguration) : configurationAt(log, after.initialConfiguration, latest)
    if (!sameConfiguration(expected, after.configuration)) {
      return {
        invariant: 'Configuration from the log',
        detail: `${after.id} uses ${describeConfiguration(after.configuration)}, but the latest configuration in its log${latest === undefined ? ' (none: its snapshot\'s or the first)' : ` (at ${latest})`} is ${describeConfiguration(expected)}`,
      }
    }
    // The leader's own appends: entries of its term after its log's end before this step.
    if (before === undefined || after.role !== 'leader' || before.role !== 'leader' || added.length === 0) return undefined
    const term = after.persistent.currentTerm
    for (const index of added) {
      if (index <= lastIndex(before.persistent.log) || entryAt(log, index)!.term !== term) continue
      const earlier = indexes.filter((i) => i < index)
      const uncommitted = earlier.find((i) => this.committed[i] === undefined)
      const ownTermCommitted = this.committed.some((c, i) => c !== undefined && c.entry.term === term && i < index)
      if (uncommitted !== undefined || !ownTermCommitted) {
        return {
          invariant: 'One configuration change at a time',
          detail: `leader ${after.id} of term ${term} appended a configuration entry at ${index} while ${uncommitted !== undefined ? `the one at ${uncommitted} was not committed` : `no entry of term ${term} was committed`}`,
        }
      }
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
  private logMatching(before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined {
    const log = after.persistent.log
    if (before?.persistent.log === log) return undefined
    for (let i = firstChange; i <= lastIndex(log); i++) {
      const entry = entryAt(log, i)!
      const prevTerm = termAt(log, i - 1)!
      const known = this.logRecords[i]?.find((r) => r.term === entry.term)
      if (known === undefined) {
        this.own()
        ;(this.logRecords[i] ??= []).push({ term: entry.term, prevTerm, entry })
      } else if (known.prevTerm !== prevTerm || !sameEntry(known.entry, entry)) {
        return {
          invariant: 'Log Matching',
          detail: `${after.id} holds ${describeEntry(entry)} at ${i} after term ${prevTerm}; seen before: ${describeEntry(known.entry)} after term ${known.prevTerm}`,
        }
      }
    }
    return undefined
  }

  /**
   * What is committed (§5.3, see the module's comment): records that this replica, in its current
   * term T, holds its log up to its last index with an entry of term T there; when that makes a
   * longer prefix stored on a majority in term T, the prefix is committed in term T, and Leader
   * Completeness checks it against every leader of a higher term seen so far (their logs when they
   * took office).
   */
  private commitment(after: ReplicaState): Violation | undefined {
    const term = after.persistent.currentTerm
    const log = after.persistent.log
    const last = lastIndex(log)
    if (last < 1 || termAt(log, last) !== term) return undefined
    const held = this.storedInTerm.get(term)
    if ((held?.get(after.id) ?? 0) >= last) return undefined
    this.own()
    const stored = this.storedInTerm.get(term) ?? new Map<string, number>()
    // The highest index a majority of the voters of one of the term's leader's configurations held
    // in term T, before and after this step (replicas not in the map hold nothing; the held indexes
    // only grow, and so does the set of configurations, so the point only grows).
    const configurations = this.leaderConfigurations.get(term) ?? [after.configuration]
    const oldPoint = this.pointInTerm.get(term) ?? 0
    this.storedInTerm.set(term, stored.set(after.id, last))
    let point = oldPoint
    for (const c of configurations) point = Math.max(point, majorityPoint(stored, c.voters))
    this.pointInTerm.set(term, point)
    // Only this replica's index grew, so a higher point is at most its last index: its log holds
    // the newly committed entries (those up to the old point were recorded when it was reached).
    // Some may have been committed already in a higher term (replicas lagging in term T stored
    // them late): their commit term is lowered to T, and they are checked against more leaders.
    for (let i = oldPoint + 1; i <= point; i++) {
      // An entry its snapshot replaced was applied here, so committed and recorded already.
      const entry = entryAt(log, i) ?? this.committed[i]?.entry
      if (entry === undefined) continue
      const known = this.committed[i]
      if (known !== undefined) {
        if (!sameEntry(known.entry, entry)) {
          return {
            invariant: 'Leader Completeness',
            detail: `${describeEntry(entry)} committed at ${i} in term ${term} (stored on a majority) where ${describeEntry(known.entry)} was committed in term ${known.commitTerm}`,
          }
        }
        if (known.commitTerm <= term) continue
      }
      this.committed[i] = { entry, commitTerm: term }
      for (const [leaderTerm, leader] of this.leaders) {
        if (leaderTerm <= term || i <= leader.log.snapshotIndex) continue
        const theirs = entryAt(leader.log, i)
        if (theirs === undefined || !sameEntry(theirs, entry)) {
          return {
            invariant: 'Leader Completeness',
            detail: `${describeEntry(entry)} committed at ${i} in term ${term} (stored on a majority) is missing from ${leader.id}'s log when it became leader of term ${leaderTerm} (holds ${describeEntry(theirs)})`,
          }
        }
      }
    }
    return undefined
  }

  /**
   * Only committed entries are applied: commitIndex stays within the log and covers only entries
   * committed in the paper's sense, and lastApplied never passes commitIndex. Checked where
   * commitIndex grew, and where the log changed below it.
   */
  private onlyCommittedApplied(before: ReplicaState | undefined, after: ReplicaState, firstChange: number): Violation | undefined {
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
      const known = this.committed[i]
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
  private stateMachineSafety(before: ReplicaState | undefined, after: ReplicaState): Violation | undefined {
    const from = (before?.lastApplied ?? 0) + 1
    for (let i = Math.max(from, after.persistent.log.snapshotIndex + 1); i <= after.lastApplied; i++) {
      const entry = entryAt(after.persistent.log, i)!
      const known = this.applied[i]
      if (known === undefined) {
        this.own()
        this.applied[i] = entry
        this.recordEffect(i, entry)
      } else if (!sameEntry(known, entry)) {
        return {
          invariant: 'State Machine Safety',
          detail: `${after.id} applies ${describeEntry(entry)} at ${i}, where ${describeEntry(known)} was applied before`,
        }
      }
    }
    return undefined
  }

  private recordEffect(index: number, entry: Entry): void {
    const command = entry.command
    if (command.op !== 'put' || this.appliedMids.has(command.MID)) return
    this.appliedMids.add(command.MID)
    const indexes = this.effectivePuts.get(command.key)
    if (indexes === undefined) this.effectivePuts.set(command.key, [index])
    else indexes.push(index)
  }

  /**
   * The store is the replay of the applied log: for the keys this step's applied entries wrote, or
   * for every key when the step replaced the state machine by a snapshot from the leader (§7), which
   * could have lost a key or brought one no put wrote.
   */
  private storeReplaysLog(before: ReplicaState | undefined, after: ReplicaState): Violation | undefined {
    const from = (before?.lastApplied ?? 0) + 1
    if (from > after.lastApplied) return undefined
    // Only a snapshot from the leader takes the log's snapshot past what this replica had applied.
    const installed = before !== undefined && after.persistent.log.snapshotIndex > before.lastApplied
    const touched = new Set<string>(installed ? [...Object.keys(valuesOf(after.kv)), ...this.effectivePuts.keys()] : [])
    for (let i = from; i <= after.lastApplied; i++) {
      // An installed snapshot's entries are not held: what was applied there is in the record.
      const command = (entryAt(after.persistent.log, i) ?? this.applied[i])?.command
      if (command === undefined) {
        return { invariant: 'State Machine Safety', detail: `${after.id} applied entry ${i}, which no replica is known to have applied` }
      }
      if (command.op === 'put') touched.add(command.key)
    }
    for (const key of touched) {
      const expected = this.valueAt(key, after.lastApplied)
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

  /** The value of `key` after applying the log up to `index`. */
  private valueAt(key: string, index: number): string | undefined {
    const indexes = this.effectivePuts.get(key) ?? []
    for (let k = indexes.length - 1; k >= 0; k--) {
      if (indexes[k]! <= index) return (this.applied[indexes[k]!]!.command as PutCommand).value
    }
    return undefined
  }
}
