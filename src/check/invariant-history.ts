/**
 * What the Figure 3 checks (raft-invariants.ts) remember of a run: each term's leader and its log
 * when it took office, every (index, term) pair seen in a log, what each replica held in each term,
 * the configurations each term's leader used, what is committed and what was applied. Cloned
 * cheaply (the explorer clones it with every world): the containers are shared until one side
 * changes them, so a check calls `own()` before any change.
 */
import { describeConfiguration, type Configuration } from '../domain/membership'
import type { Log } from '../domain/log'
import type { Entry, PutCommand } from '../domain/wire'

export interface LogRecord {
  readonly term: number
  readonly prevTerm: number
  readonly entry: Entry
}

/** A term's leader, and its log the moment it became leader (a leader only appends after that). */
export interface LeaderRecord {
  readonly id: string
  readonly log: Log
}

export interface CommittedRecord {
  readonly entry: Entry
  /** The lowest term in which it was committed (the check against later leaders is strictest there). */
  readonly commitTerm: number
}

export class InvariantHistory {
  /** term -> the replica that led it, and its log when it took office. */
  leaders = new Map<number, LeaderRecord>()
  /** index -> the (term, prevTerm, entry) records seen at that index. */
  logRecords: LogRecord[][] = []
  /** term -> replica -> the highest index it has held while its current term was T, with an entry of term T there. */
  storedInTerm = new Map<number, Map<string, number>>()
  /** term -> every configuration its leader used in it (the one it took office with, and each it appended). */
  leaderConfigurations = new Map<number, Configuration[]>()
  /** term -> the highest index stored on a majority of one of those configurations so far. */
  pointInTerm = new Map<number, number>()
  /** replica -> the indexes of the configuration entries in its log, ascending (what §4.1 says it must use). */
  configIndexes = new Map<string, number[]>()
  /** index -> the committed entry there; always a contiguous prefix from index 1. */
  committed: CommittedRecord[] = []
  /** index -> the entry first applied there by any replica. */
  applied: Entry[] = []
  /** key -> the applied indexes of puts to that key that take effect, ascending. */
  effectivePuts = new Map<string, number[]>()
  appliedMids = new Set<string>()
  /** `digest()` as last computed; reset by every change to what it covers. */
  private digestText: string | undefined

  /** Set by clone() on both objects: their containers are shared until one of them changes them. */
  private shared = false

  /** A copy that goes its own way; the containers are copied only when one side first records something. */
  clone(): InvariantHistory {
    const copy = new InvariantHistory()
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
  own(): void {
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

  /** Remembers which applied puts take effect (a MID applied again does not), for `valueAt`. */
  recordEffect(index: number, entry: Entry): void {
    const command = entry.command
    if (command.op !== 'put' || this.appliedMids.has(command.MID)) return
    this.appliedMids.add(command.MID)
    const indexes = this.effectivePuts.get(command.key)
    if (indexes === undefined) this.effectivePuts.set(command.key, [index])
    else indexes.push(index)
  }

  /** The value of `key` after applying the log up to `index`. */
  valueAt(key: string, index: number): string | undefined {
    const indexes = this.effectivePuts.get(key) ?? []
    for (let k = indexes.length - 1; k >= 0; k--) {
      if (indexes[k]! <= index) return (this.applied[indexes[k]!]!.command as PutCommand).value
    }
    return undefined
  }
}
