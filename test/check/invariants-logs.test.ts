/** The log checks of RaftInvariants, fed hand-built steps of one replica. */
import { describe, expect, it } from 'vitest'
import { initialState, type ReplicaState } from '../../src/domain/state'
import type { Entry, NodeId } from '../../src/domain/wire'
import { RaftInvariants } from '../../src/check/raft-invariants'

const ids = ['0000', '0001', '0002'] as NodeId[]
const base = initialState({ id: ids[0]!, peers: ids, seed: 1 })
const put = (term: number, n: number): Entry => ({ term, command: { op: 'put', MID: `M${n}`, key: `k${n}`, value: `v${n}` } })

const replica = (role: ReplicaState['role'], term: number, entries: readonly Entry[], commitIndex = 0): ReplicaState =>
  ({ ...base, role, persistent: { ...base.persistent, currentTerm: term, log: { ...base.persistent.log, entries } }, commitIndex }) as ReplicaState

/** Observes `steps` in order (the first as a boot), returning the first violation. */
const run = (...steps: ReplicaState[]) => {
  const invariants = new RaftInvariants()
  let before: ReplicaState | undefined
  for (const after of steps) {
    const violation = invariants.observe(before, after)
    if (violation !== undefined) return violation
    before = after
  }
  return undefined
}

describe('the log checks', () => {
  const [a, b, c, d] = [put(1, 1), put(1, 2), put(1, 3), put(1, 4)]

  it('accept a leader that appends', () => {
    expect(run(replica('leader', 1, [a]), replica('leader', 1, [a, b]), replica('leader', 1, [a, b, c, d]))).toBeUndefined()
  })

  it('accept a leader whose log is copied into new entry objects with the same contents', () => {
    const copies = [a, b, c].map((e) => ({ ...e, command: { ...e.command } }))
    expect(run(replica('leader', 1, [a, b, c]), replica('leader', 1, copies))).toBeUndefined()
  })

  it('find a leader that replaces an entry in the middle of its log, the entries around it unchanged', () => {
    const violation = run(replica('leader', 1, [a, b, c]), replica('leader', 1, [a, put(1, 9), c]))
    expect(violation?.invariant).toBe('Leader Append-Only')
    expect(violation?.detail).toMatch(/replaced entry 2 \(1:put M2=v2\) by 1:put M9=v9/)
  })

  it('find a leader that shrinks its log', () => {
    expect(run(replica('leader', 1, [a, b, c]), replica('leader', 1, [a, b]))?.invariant).toBe('Leader Append-Only')
  })

  it('find two logs with the same entry term at an index but different entries before it (Log Matching)', () => {
    const invariants = new RaftInvariants()
    const first = replica('follower', 2, [a, put(2, 5)])
    const second = replica('follower', 2, [put(2, 6), put(2, 5)])
    expect(invariants.observe(undefined, first)).toBeUndefined()
    const violation = invariants.observe(undefined, second)
    expect(violation?.invariant).toBe('Log Matching')
  })
})
