/**
 * Figure 3's properties about leaders, and what they rest on: Election Safety (§5.2) and Leader
 * Completeness (§5.4), with the record of what is committed in the paper's sense (§5.3; see
 * raft-invariants.ts).
 */
import { entryAt, lastIndex, termAt } from '../domain/log'
import { sameConfiguration } from '../domain/membership'
import { majority } from '../domain/quorum'
import type { ReplicaState } from '../domain/state'
import type { InvariantHistory } from './invariant-history'
import { describeEntry, sameEntry, type Violation } from './violation'

/**
 * Election Safety, over the whole run: the first replica seen leading a term is its leader, and
 * no other may lead it, even after the first crashed or was deposed. A new leader's log is kept
 * for Leader Completeness, and checked at once against everything committed in earlier terms.
 */
export const electionSafety = (h: InvariantHistory, s: ReplicaState): Violation | undefined => {
  if (s.role !== 'leader') return undefined
  const term = s.persistent.currentTerm
  const known = h.leaders.get(term)
  if (known !== undefined) {
    if (known.id !== s.id) return { invariant: 'Election Safety', detail: `${known.id} and ${s.id} are both leaders of term ${term}` }
    const used = h.leaderConfigurations.get(term)!
    if (!sameConfiguration(used[used.length - 1]!, s.configuration)) {
      h.own()
      h.leaderConfigurations.get(term)!.push(s.configuration)
    }
    return undefined
  }
  h.own()
  const log = s.persistent.log
  h.leaders.set(term, { id: s.id, log })
  h.leaderConfigurations.set(term, [s.configuration])
  // What its snapshot replaced it applied, so it was committed: the entries it holds are checked.
  for (let i = log.snapshotIndex + 1; i < h.committed.length; i++) {
    const record = h.committed[i]!
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

/** The highest index that a majority of `voters` reach in `held` (0 when fewer hold anything). */
const majorityPoint = (held: ReadonlyMap<string, number>, voters: readonly string[]): number => {
  const indexes = voters.map((id) => held.get(id) ?? 0).sort((a, b) => b - a)
  return indexes[majority(voters.length) - 1] ?? 0
}

/**
 * What is committed (§5.3, see the module's comment): records that this replica, in its current
 * term T, holds its log up to its last index with an entry of term T there; when that makes a
 * longer prefix stored on a majority in term T, the prefix is committed in term T, and Leader
 * Completeness checks it against every leader of a higher term seen so far (their logs when they
 * took office).
 */
export const commitment = (h: InvariantHistory, after: ReplicaState): Violation | undefined => {
  const term = after.persistent.currentTerm
  const log = after.persistent.log
  const last = lastIndex(log)
  if (last < 1 || termAt(log, last) !== term) return undefined
  const held = h.storedInTerm.get(term)
  if ((held?.get(after.id) ?? 0) >= last) return undefined
  h.own()
  const stored = h.storedInTerm.get(term) ?? new Map<string, number>()
  // The highest index a majority of the voters of one of the term's leader's configurations held
  // in term T, before and after this step (replicas not in the map hold nothing; the held indexes
  // only grow, and so does the set of configurations, so the point only grows).
  const configurations = h.leaderConfigurations.get(term) ?? [after.configuration]
  const oldPoint = h.pointInTerm.get(term) ?? 0
  h.storedInTerm.set(term, stored.set(after.id, last))
  let point = oldPoint
  for (const c of configurations) point = Math.max(point, majorityPoint(stored, c.voters))
  h.pointInTerm.set(term, point)
  // Only this replica's index grew, so a higher point is at most its last index: its log holds
  // the newly committed entries (those up to the old point were recorded when it was reached).
  // Some may have been committed already in a higher term (replicas lagging in term T stored
  // them late): their commit term is lowered to T, and they are checked against more leaders.
  for (let i = oldPoint + 1; i <= point; i++) {
    // An entry its snapshot replaced was applied here, so committed and recorded already.
    const entry = entryAt(log, i) ?? h.committed[i]?.entry
    if (entry === undefined) continue
    const known = h.committed[i]
    if (known !== undefined) {
      if (!sameEntry(known.entry, entry)) {
        return {
          invariant: 'Leader Completeness',
          detail: `${describeEntry(entry)} committed at ${i} in term ${term} (stored on a majority) where ${describeEntry(known.entry)} was committed in term ${known.commitTerm}`,
        }
      }
      if (known.commitTerm <= term) continue
    }
    h.committed[i] = { entry, commitTerm: term }
    for (const [leaderTerm, leader] of h.leaders) {
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
