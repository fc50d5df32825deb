import { describe, expect, it } from 'vitest'
import { initialState, type ReplicaState } from '../../src/domain/state'
import type { Entry, NodeId } from '../../src/domain/wire'
import { RaftInvariants } from '../../src/check/raft-invariants'

const ids = ['0000', '0001', '0002'] as NodeId[]
/** A cluster of one: what its leader stores is on a majority, so its commitIndex may cover it. */
const follower = initialState({ id: ids[0]!, peers: [ids[0]!], seed: 1 })
const noop = (term: number): Entry => ({ term, command: { op: 'noop' } })

/** 0000 leads `term` with a log of `terms` (one no-op per term given), committed and applied up to `commitIndex`. */
const leading = (term: number, terms: number[], commitIndex: number): ReplicaState =>
  ({
    ...follower,
    role: 'leader',
    persistent: { ...follower.persistent, currentTerm: term, log: { ...follower.persistent.log, entries: [...follower.persistent.log.entries, ...terms.map(noop)] } },
    commitIndex,
    lastApplied: commitIndex,
  }) as ReplicaState

describe("the invariants' digest (the explorer's record of what the checks remember)", () => {
  it('changes with what the checks record, and a clone keeps its own', () => {
    const invariants = new RaftInvariants()
    expect(invariants.observe(undefined, follower)).toBeUndefined()
    const empty = invariants.digest()

    const copy = invariants.clone()
    expect(copy.digest()).toBe(empty)
    const leader = leading(1, [1], 0)
    expect(copy.observe(follower, leader)).toBeUndefined()
    const withLeader = copy.digest()
    expect(withLeader).not.toBe(empty)
    expect(withLeader).toContain('1:0000')
    expect(invariants.digest()).toBe(empty) // the original is untouched

    const committed = leading(1, [1], 1)
    expect(copy.observe(leader, committed)).toBeUndefined()
    expect(copy.digest()).not.toBe(withLeader) // what was applied is recorded, the cached text is not reused
    const again = copy.clone()
    expect(again.observe(committed, committed)).toBeUndefined()
    expect(again.digest()).toBe(copy.digest()) // nothing new recorded
  })

  it('is the same for a clone and its original, computed in either order', () => {
    const original = new RaftInvariants()
    const leader = leading(1, [1, 1], 2)
    expect(original.observe(follower, leader)).toBeUndefined()
    const clone = original.clone()
    const cloneFirst = clone.digest()
    expect(original.digest()).toBe(cloneFirst)

    // The same observations, one object cloned between them and one not, give the same digest.
    const direct = new RaftInvariants()
    const stepped = new RaftInvariants()
    const one = leading(1, [1], 1)
    const two = leading(1, [1, 1], 2)
    direct.observe(follower, one)
    direct.observe(one, two)
    stepped.observe(follower, one)
    const later = stepped.clone()
    later.observe(one, two)
    expect(later.digest()).toBe(direct.digest())
  })

  it('a clone and its original do not see what the other records afterwards, either way', () => {
    const other = initialState({ id: ids[1]!, peers: ids, seed: 2 })
    const leaderOf = (s: ReplicaState, term: number): ReplicaState =>
      ({ ...s, role: 'leader', persistent: { ...s.persistent, currentTerm: term } }) as ReplicaState

    const original = new RaftInvariants()
    const clone = original.clone()
    // The original records 0000 as leader of term 1; the clone never saw it ...
    expect(original.observe(follower, leaderOf(follower, 1))).toBeUndefined()
    expect(clone.observe(other, leaderOf(other, 1))).toBeUndefined()
    // ... and each now holds its own leader of term 1.
    expect(original.observe(other, leaderOf(other, 1))?.invariant).toBe('Election Safety')
    expect(clone.observe(follower, leaderOf(follower, 1))?.invariant).toBe('Election Safety')

    // The same the other way round: the clone records first.
    const first = new RaftInvariants()
    const second = first.clone()
    expect(second.observe(follower, leaderOf(follower, 2))).toBeUndefined()
    expect(first.observe(other, leaderOf(other, 2))).toBeUndefined()
    expect(first.digest()).toContain('2:0001')
    expect(first.digest()).not.toContain('2:0000')
    expect(second.digest()).toContain('2:0000')
  })
})
