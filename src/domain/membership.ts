/**
 * Cluster membership (thesis ch. 4): configurations of voters and learners, carried in the log.
 *
 * Single-server changes (§4.1), not joint consensus (§4.3). Each change adds one learner, promotes
 * one learner to voter, or removes one member: at most one voter joins or leaves, and "when adding
 * or removing a single server from the cluster, any majority of the old cluster overlaps with any
 * majority of the new cluster", so the change needs one log entry and no intermediate
 * configuration. Learners do not vote, so adding or removing one changes no majority at all. Every
 * change an operator makes here (replace a dead replica, grow from three to five, shrink) is a
 * sequence of such steps, and a single step is what etcd's and hashicorp's learner-first flows do
 * too; joint consensus buys arbitrary changes in one step at the cost of a second entry and
 * two-majority rules everywhere. With single-server changes, the fix Ongaro gave on raft-dev (2015)
 * for the bug in the thesis's version: a leader appends a configuration entry only once an entry
 * of its own term has committed, and only once the previous configuration entry has committed
 * (one change at a time); `changeBlockedBecause` says which rule holds a change back.
 *
 * §4.1: "a server always uses the latest configuration in its log, regardless of whether the
 * entry is committed". So the configuration in use is a function of the log (and of the
 * snapshot's configuration once compaction has taken the entry, §5.1 of the thesis): when a
 * conflicting suffix is dropped, the configuration before it is in use again.
 */
import { entryAt, lastIndex, termAt, type Log } from './log'
import type { ConfigCommand, ConfigurationData, Entry, MemberAddresses, NodeId } from './wire'

export type AddressBook = Readonly<Record<string, MemberAddresses>>

/** Who votes (and counts toward majorities), and who only receives the log. Both sorted. */
export interface Configuration {
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
  /**
   * The real cluster's: where members are reached, for those whose addresses an operator gave
   * (wire.ts, MemberAddresses). Raft never reads it; the runtime connects to members by it, so
   * that a member added at run time is reached by every replica that holds its entry. Absent in
   * the course's cluster, whose replicas are named on the command line.
   */
  readonly addresses?: AddressBook
}

const sorted = (ids: Iterable<NodeId>): NodeId[] => [...new Set(ids)].sort()

/** The addresses of `members` found in `book`, or undefined when there are none. */
const addressesOf = (members: readonly NodeId[], book: AddressBook | undefined): AddressBook | undefined => {
  if (book === undefined) return undefined
  const kept: Record<string, MemberAddresses> = {}
  let any = false
  for (const id of members) {
    const a = book[id]
    if (a !== undefined) {
      kept[id] = { peer: a.peer, client: a.client }
      any = true
    }
  }
  return any ? Object.freeze(kept) : undefined
}

export const configuration = (voters: Iterable<NodeId>, learners: Iterable<NodeId> = [], addresses?: AddressBook): Configuration => {
  const v = sorted(voters)
  const l = sorted(learners).filter((id) => !v.includes(id))
  const book = addressesOf([...v, ...l], addresses)
  return Object.freeze(
    book === undefined
      ? { voters: Object.freeze(v), learners: Object.freeze(l) }
      : { voters: Object.freeze(v), learners: Object.freeze(l), addresses: book },
  )
}

/** The course's cluster, and any cluster's first configuration: every replica named at start-up votes. */
export const allVoters = (ids: readonly NodeId[]): Configuration => configuration(ids)

export const isVoter = (c: Configuration, id: NodeId): boolean => c.voters.includes(id)
export const isLearner = (c: Configuration, id: NodeId): boolean => c.learners.includes(id)
export const isMember = (c: Configuration, id: NodeId): boolean => isVoter(c, id) || isLearner(c, id)

/**
 * Every member but `self`: whom a leader replicates to. In the order of `order` (the peers as the
 * replica knew them), new members after them by ID: the order breaks ties when the leader picks
 * which followers carry a new entry first (fanout.ts), so a configuration that did not change
 * keeps the replica's behaviour exactly as it was (the course's argv order).
 */
export const othersIn = (c: Configuration, self: NodeId, order: readonly NodeId[] = []): NodeId[] => {
  const others: NodeId[] = []
  for (const id of order) if (id !== self && isMember(c, id) && !others.includes(id)) others.push(id)
  for (const id of [...c.voters, ...c.learners]) if (id !== self && !others.includes(id)) others.push(id)
  return others
}

export const sameConfiguration = (a: Configuration, b: Configuration): boolean =>
  a === b ||
  (a.voters.length === b.voters.length &&
    a.learners.length === b.learners.length &&
    a.voters.every((id, i) => b.voters[i] === id) &&
    a.learners.every((id, i) => b.learners[i] === id) &&
    describeAddresses(a) === describeAddresses(b))

/** A configuration's addresses as text, member by member in ID order ('' when it has none). */
const describeAddresses = (c: Configuration): string =>
  c.addresses === undefined
    ? ''
    : Object.keys(c.addresses)
        .sort()
        .map((id) => `${id}=${c.addresses![id]!.peer}/${c.addresses![id]!.client}`)
        .join(',')

export const describeConfiguration = (c: Configuration): string =>
  `voters ${c.voters.join(',') || 'none'}${c.learners.length > 0 ? `, learners ${c.learners.join(',')}` : ''}`

// ---- in the log ------------------------------------------------------------------------------

export const configCommand = (c: Configuration): ConfigCommand => ({ op: 'config', ...toData(c) })

/** The configuration a configuration entry (or a snapshot's record) carries. */
export const fromData = (data: ConfigurationData): Configuration => configuration(data.voters, data.learners, data.addresses)

export const toData = (c: Configuration): ConfigurationData =>
  c.addresses === undefined
    ? { voters: [...c.voters], learners: [...c.learners] }
    : { voters: [...c.voters], learners: [...c.learners], addresses: { ...c.addresses } }

export const isConfigEntry = (e: Entry): e is Entry & { readonly command: ConfigCommand } => e.command.op === 'config'

/** The last configuration entry's index at or before `upTo` that the log still holds, or undefined. */
export const lastConfigIndex = (log: Log, upTo: number = lastIndex(log)): number | undefined => {
  for (let i = Math.min(upTo, lastIndex(log)); i > log.snapshotIndex; i--) {
    if (isConfigEntry(entryAt(log, i)!)) return i
  }
  return undefined
}

/**
 * §4.1: the configuration in use with this log: its latest configuration entry at or before
 * `upTo`, else the snapshot's configuration (the latest as of the snapshot's last index), else the
 * cluster's first one.
 */
export const configurationAt = (log: Log, base: Configuration, upTo: number = lastIndex(log)): Configuration => {
  const at = lastConfigIndex(log, upTo)
  return at === undefined ? base : fromData(entryAt(log, at)!.command as ConfigCommand)
}

/** Whether any of `entries` is a configuration entry (then the configuration in use must be found again). */
export const carriesConfiguration = (entries: readonly Entry[]): boolean => {
  for (const e of entries) if (e.command.op === 'config') return true
  return false
}

// ---- changes ---------------------------------------------------------------------------------

export type ChangeAction = 'add' | 'promote' | 'remove'

/**
 * The configuration after one single-server change, or the reason it is not one. Asking for what
 * already holds (adding a member, promoting a voter, removing a non-member) is not a change: the
 * result is undefined, and the caller answers at once (a client's retry of a change that went
 * through).
 */
export const applyChange = (
  c: Configuration,
  action: ChangeAction,
  member: NodeId,
  addresses?: AddressBook,
): { readonly ok: Configuration | undefined } | { readonly refused: string } => {
  // The configuration's own addresses stand; `addresses` adds those of members it has none for.
  const book = addresses === undefined ? c.addresses : { ...addresses, ...c.addresses }
  switch (action) {
    case 'add':
      // §4.2.1: a new server first joins as a learner ("non-voting member").
      if (isMember(c, member)) return { ok: undefined }
      return { ok: configuration(c.voters, [...c.learners, member], book) }
    case 'promote':
      if (isVoter(c, member)) return { ok: undefined }
      if (!isLearner(c, member)) return { refused: `${member} is not a learner of the cluster (add it first)` }
      return { ok: configuration([...c.voters, member], c.learners.filter((id) => id !== member), book) }
    case 'remove':
      if (!isMember(c, member)) return { ok: undefined }
      if (isVoter(c, member) && c.voters.length === 1) return { refused: `${member} is the cluster's last voter` }
      return { ok: configuration(c.voters.filter((id) => id !== member), c.learners.filter((id) => id !== member), book) }
  }
}

/**
 * Why a leader may not append a configuration entry now, or undefined when it may. Thesis §4.1
 * with the fix for single-server changes: the previous change must have committed (one change at
 * a time), and so must an entry of the leader's own term.
 */
export const changeBlockedBecause = (log: Log, commitIndex: number, currentTerm: number): string | undefined => {
  const pending = lastConfigIndex(log)
  if (pending !== undefined && pending > commitIndex) return `the configuration change at ${pending} has not committed yet`
  if (termAt(log, commitIndex) !== currentTerm) return `no entry of term ${currentTerm} has committed yet`
  return undefined
}
