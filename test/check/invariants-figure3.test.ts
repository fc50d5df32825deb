/**
 * Figure 3's properties as RaftInvariants checks them, fed hand-built traces of a 3-replica
 * cluster: each property with a trace that breaks it and one that keeps it. A trace is a list of
 * replica states in the order the replicas reached them; a crash forgets the replica's state, so
 * that its next state is observed as after a restart.
 */
import { describe, expect, it } from 'vitest'
import { applyCommand, emptyKv, type KvStore } from '../../src/domain/kv'
import { initialState, type ReplicaState } from '../../src/domain/state'
import type { Entry, NodeId } from '../../src/domain/wire'
import { RaftInvariants } from '../../src/check/raft-invariants'
import type { Violation } from '../../src/check/violation'

const ids = ['0000', '0001', '0002'] as NodeId[]
const [S0, S1, S2] = ids as [NodeId, NodeId, NodeId]

/** A no-op of `term` (applying it writes no key), and a put, which tells apart entries of one term. */
const entry = (term: number): Entry => ({ term, command: { op: 'noop' } })
const put = (term: number, n: number): Entry => ({ term, command: { op: 'put', MID: `M${n}`, key: `k${n}`, value: `v${n}` } })

interface Shape {
  readonly role?: ReplicaState['role']
  readonly term: number
  readonly log?: readonly Entry[]
  readonly commitIndex?: number
  readonly lastApplied?: number
  /** §7: the log starts after a snapshot of the state machine up to this index (of `term`). */
  readonly snapshotIndex?: number
  readonly kv?: KvStore
}

const state = (id: NodeId, shape: Shape, cluster: readonly NodeId[]): ReplicaState => {
  const base = initialState({ id, peers: cluster, seed: 1 })
  return {
    ...base,
    role: shape.role ?? 'follower',
    persistent: {
      ...base.persistent,
      currentTerm: shape.term,
      log: { snapshotIndex: shape.snapshotIndex ?? 0, snapshotTerm: shape.snapshotIndex === undefined ? 0 : shape.term, entries: shape.log ?? [] },
    },
    kv: shape.kv ?? base.kv,
    commitIndex: shape.commitIndex ?? 0,
    lastApplied: shape.lastApplied ?? 0,
  } as ReplicaState
}

type Step = readonly [NodeId, Shape] | readonly ['crash', NodeId]

/** Observes the steps in order, each against the replica's previous state; the first violation, if any. */
const run = (...steps: Step[]): Violation | undefined => runIn(ids, ...steps)

const runIn = (cluster: readonly NodeId[], ...steps: Step[]): Violation | undefined => {
  const invariants = new RaftInvariants()
  const current = new Map<NodeId, ReplicaState>()
  for (const step of steps) {
    if (step[0] === 'crash') {
      current.delete(step[1])
      continue
    }
    const [id, shape] = step as readonly [NodeId, Shape]
    const after = state(id, shape, cluster)
    const violation = invariants.observe(current.get(id), after)
    if (violation !== undefined) return violation
    current.set(id, after)
  }
  return undefined
}

describe('Election Safety: "at most one leader can be elected in a given term" (Figure 3, §5.2)', () => {
  it('a second leader of a term is found after the first crashed', () => {
    const violation = run([S0, { role: 'leader', term: 2 }], ['crash', S0], [S1, { role: 'leader', term: 2 }])
    expect(violation).toEqual({ invariant: 'Election Safety', detail: '0000 and 0001 are both leaders of term 2' })
  })

  it('a second leader of a term is found after the first was deposed', () => {
    const violation = run([S0, { role: 'leader', term: 2 }], [S0, { role: 'follower', term: 3 }], [S1, { role: 'leader', term: 2 }])
    expect(violation?.invariant).toBe('Election Safety')
  })

  it('one leader per term, the same replica leading again in a later term, is kept', () => {
    expect(
      run([S0, { role: 'leader', term: 2 }], [S0, { term: 3 }], [S1, { role: 'leader', term: 3 }], [S0, { role: 'leader', term: 4 }]),
    ).toBeUndefined()
  })
})

describe('Log Matching: "if two logs contain an entry with the same index and term, then the logs are identical in all entries up through the given index" (Figure 3, §5.3)', () => {
  it('two logs with the same entry at 2 but different terms at 1 are found, though the first replica crashed in between', () => {
    const violation = run([S0, { term: 2, log: [put(1, 1), entry(2)] }], ['crash', S0], [S1, { term: 2, log: [put(2, 2), entry(2)] }])
    expect(violation?.invariant).toBe('Log Matching')
    expect(violation?.detail).toMatch(/^0001 holds 2:noop at 2 after term 2; seen before: 2:noop after term 1/)
  })

  it('logs that agree up to an index and differ after it are kept', () => {
    expect(run([S0, { term: 2, log: [entry(1), put(1, 1)] }], [S1, { term: 2, log: [entry(1), entry(2)] }])).toBeUndefined()
  })
})

describe('Leader Completeness: "if a log entry is committed in a given term, then that entry will be present in the logs of the leaders for all higher-numbered terms" (Figure 3, §5.4)', () => {
  /** 0000 leads term 1 and 0001 stores its entry in term 1: on a majority, committed (§5.3). */
  const committedInTerm1: Step[] = [
    [S0, { role: 'leader', term: 1, log: [entry(1)] }],
    [S1, { term: 1, log: [entry(1)] }],
  ]

  it('a leader of a later term elected without a committed entry is found', () => {
    const violation = run(...committedInTerm1, [S2, { role: 'leader', term: 2 }])
    expect(violation?.invariant).toBe('Leader Completeness')
    expect(violation?.detail).toBe('0002 became leader of term 2 without 1:noop committed at 1 in term 1 (holds nothing)')
  })

  it('an entry committed after a later leader took office without it is found, though that leader has since crashed', () => {
    const violation = run(
      [S2, { role: 'leader', term: 3 }],
      ['crash', S2],
      ...committedInTerm1,
    )
    expect(violation?.invariant).toBe('Leader Completeness')
    expect(violation?.detail).toMatch(/^1:noop committed at 1 in term 1 \(stored on a majority\) is missing from 0002's log when it became leader of term 3/)
  })

  it('Figure 8 (c) then (d): an entry of term 2 stored on a majority in term 4 is not committed, and the leader of term 5 may lack it', () => {
    expect(
      run(
        [S0, { role: 'leader', term: 4, log: [entry(2)] }],
        [S2, { term: 4, log: [entry(2)] }],
        [S1, { role: 'leader', term: 5, log: [entry(3)] }],
      ),
    ).toBeUndefined()
  })

  it('Figure 8 (e): once the leader of term 4 has its own entry on a majority, both entries are committed, and a leader of term 5 without them is found', () => {
    const violation = run(
      [S0, { role: 'leader', term: 4, log: [entry(2), entry(4)] }],
      [S2, { term: 4, log: [entry(2), entry(4)] }],
      [S1, { role: 'leader', term: 5, log: [entry(3)] }],
    )
    expect(violation?.invariant).toBe('Leader Completeness')
    expect(violation?.detail).toMatch(/^0001 became leader of term 5 without 2:noop committed at 1 in term 4/)
  })

  it('an entry committed in term 2, then again in term 1 by a replica that stored it late, is kept (5 replicas)', () => {
    const five = ['0000', '0001', '0002', '0003', '0004'] as NodeId[]
    const [, , , S3, S4] = five
    expect(
      runIn(
        five,
        [S0, { role: 'leader', term: 1, log: [entry(1)] }],
        [S1, { term: 1, log: [entry(1)] }],
        [S1, { role: 'leader', term: 2, log: [entry(1), entry(2)] }],
        [S2, { term: 2, log: [entry(1), entry(2)] }],
        [S3!, { term: 2, log: [entry(1), entry(2)] }], // both entries on a majority in term 2
        [S4!, { term: 1, log: [entry(1)] }], // a late AppendEntries of term 1: now on a majority in term 1 too
        [S4!, { term: 2, log: [entry(1), entry(2)], commitIndex: 2, lastApplied: 2 }],
      ),
    ).toBeUndefined()
  })

  it('a replica lagging in an old term that stores less than was committed in it is kept (5 replicas)', () => {
    const five = ['0000', '0001', '0002', '0003', '0004'] as NodeId[]
    const [, , , S3, S4] = five
    const [a, b] = [put(1, 1), put(1, 2)]
    expect(
      runIn(
        five,
        [S0, { role: 'leader', term: 1, log: [a, b] }],
        [S1, { term: 1, log: [a, b] }],
        [S2, { term: 1, log: [a, b] }], // a and b committed in term 1
        [S1, { role: 'leader', term: 2, log: [a, b, entry(2)] }],
        [S2, { term: 2, log: [a, b, entry(2)] }],
        [S3!, { term: 2, log: [a, b, entry(2)] }], // all three committed in term 2
        [S4!, { term: 1, log: [a] }], // still in term 1, it gets a late AppendEntries with a alone
      ),
    ).toBeUndefined()
  })

  it('later leaders that hold every committed entry are kept', () => {
    expect(run(...committedInTerm1, [S1, { role: 'leader', term: 2, log: [entry(1), entry(2)] }], [S2, { role: 'leader', term: 3, log: [entry(1)] }])).toBeUndefined()
  })
})

describe('State Machine Safety: "if a server has applied a log entry at a given index to its state machine, no other server will ever apply a different log entry for the same index" (Figure 3, §5.4.3)', () => {
  const committedAndApplied: Step[] = [
    [S0, { role: 'leader', term: 1, log: [entry(1)] }],
    [S1, { term: 1, log: [entry(1)] }],
    [S0, { role: 'leader', term: 1, log: [entry(1)], commitIndex: 1, lastApplied: 1 }],
  ]

  it('a replica that applies another entry at an index where one was applied is found, though the first has crashed', () => {
    const violation = run(...committedAndApplied, ['crash', S0], [S2, { term: 2, log: [entry(2)], commitIndex: 1, lastApplied: 1 }])
    expect(violation).toEqual({ invariant: 'State Machine Safety', detail: '0002 applies 2:noop at 1, where 1:noop was applied before' })
  })

  it('replicas applying the same entries, one of them again after a restart, are kept', () => {
    expect(
      run(
        ...committedAndApplied,
        [S1, { term: 1, log: [entry(1)], commitIndex: 1, lastApplied: 1 }],
        ['crash', S1],
        [S1, { term: 1, log: [entry(1)] }],
        [S1, { term: 2, log: [entry(1)], commitIndex: 1, lastApplied: 1 }],
      ),
    ).toBeUndefined()
  })
})

describe('the state machine is the replay of the applied log (§5.4.3 at the store; §7: a snapshot replaces it)', () => {
  const kvOf = (...entries: Entry[]): KvStore => entries.reduce((kv, e) => applyCommand(kv, e.command), emptyKv)
  const [p1, p2] = [put(1, 1), put(1, 2)]
  /** Both puts committed and applied by the leader; 0002 applies the first itself. */
  const applied: Step[] = [
    [S0, { role: 'leader', term: 1, log: [p1, p2] }],
    [S1, { term: 1, log: [p1, p2] }],
    [S0, { role: 'leader', term: 1, log: [p1, p2], commitIndex: 2, lastApplied: 2, kv: kvOf(p1, p2) }],
    [S2, { term: 1, log: [p1], commitIndex: 1, lastApplied: 1, kv: kvOf(p1) }],
  ]

  it('a snapshot installed from the leader that lost a key applied before it is found', () => {
    const violation = run(...applied, [S2, { term: 1, snapshotIndex: 2, commitIndex: 2, lastApplied: 2, kv: kvOf(p2) }])
    expect(violation).toEqual({ invariant: 'State Machine Safety', detail: '0002 holds k1=undefined after applying 2 entries; the applied log says v1' })
  })

  it('a snapshot that brings a key no put wrote is found', () => {
    const extra = applyCommand(kvOf(p1, p2), { op: 'put', MID: 'M9', key: 'k9', value: 'v9', client: S0 })
    const violation = run(...applied, [S2, { term: 1, snapshotIndex: 2, commitIndex: 2, lastApplied: 2, kv: extra }])
    expect(violation?.detail).toBe('0002 holds k9=v9 after applying 2 entries; the applied log says undefined')
  })

  it('a snapshot that holds exactly the applied puts is kept, as is applying entry by entry', () => {
    expect(run(...applied, [S2, { term: 1, snapshotIndex: 2, commitIndex: 2, lastApplied: 2, kv: kvOf(p1, p2) }])).toBeUndefined()
    expect(run(...applied, [S2, { term: 1, log: [p1, p2], commitIndex: 2, lastApplied: 2, kv: kvOf(p1, p2) }])).toBeUndefined()
  })
})

describe('only committed entries are applied (§5.3: "such an entry is called committed"; Figure 2: apply up to commitIndex)', () => {
  it('a leader whose commitIndex covers an entry only it stores is found', () => {
    const violation = run([S0, { role: 'leader', term: 1, log: [entry(1)] }], [S0, { role: 'leader', term: 1, log: [entry(1)], commitIndex: 1 }])
    expect(violation?.invariant).toBe('Only committed entries are applied')
    expect(violation?.detail).toBe("0000's commitIndex 1 covers 1:noop at 1, which is not committed (not stored on a majority in its term)")
  })

  it('a replica that replaces an entry its commitIndex covers is found', () => {
    const violation = run(
      [S0, { role: 'leader', term: 1, log: [entry(1)] }],
      [S1, { term: 1, log: [entry(1)], commitIndex: 1 }],
      [S1, { term: 2, log: [entry(2)], commitIndex: 1 }],
    )
    expect(violation?.invariant).toBe('Only committed entries are applied')
    expect(violation?.detail).toMatch(/covers 2:noop at 1, which is not committed \(1:noop is\)/)
  })

  it('lastApplied beyond commitIndex is found', () => {
    expect(run([S0, { term: 1, log: [entry(1)], lastApplied: 1 }])?.detail).toBe('0000 applied 1 beyond commitIndex 0')
  })

  it('a commitIndex that covers what a majority stored in its term is kept', () => {
    expect(
      run([S0, { role: 'leader', term: 1, log: [entry(1)] }], [S2, { term: 1, log: [entry(1)] }], [S0, { role: 'leader', term: 1, log: [entry(1)], commitIndex: 1, lastApplied: 1 }]),
    ).toBeUndefined()
  })
})
