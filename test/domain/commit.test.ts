/**
 * Commitment (§5.3, §5.4.2) and applying to the state machine (Figure 2, all servers).
 */
import { describe, expect, it } from 'vitest'
import { read, valuesOf } from '../../src/domain/kv'
import {
  acks,
  append,
  deliver,
  elect,
  ELECTED_AT as L,
  fire,
  HB,
  leaderOf,
  logOf,
  logOfTerms,
  noop,
  ofType,
  put,
  putEntry,
  R,
  replica,
  repliesTo,
  start,
  CLIENT,
} from './helpers'

const [ME, A, B, C, D] = R

describe('§5.3, leaders: commitment by counting replicas', () => {
  // §5.3: "A log entry is committed once the leader that created the entry has replicated it on a majority of the servers".
  it('commits an entry of its term once a majority (itself and two of four) stores it', () => {
    const leader = leaderOf(1).state
    const one = deliver(leader, L + 10, ...acks(leader, [A], 1, L)).state
    expect(one.commitIndex).toBe(0)
    const two = deliver(one, L + 11, ...acks(leader, [B], 1, L)).state
    expect(two.commitIndex).toBe(1)
    expect(two.lastApplied).toBe(1)
  })

  it('commits up to the highest index a majority stores, not past it', () => {
    const leader = leaderOf(1, { log: logOfTerms() }).state
    const settled = deliver(leader, L + 10, ...acks(leader, [A, B, C, D], 1, L)).state
    const withPuts = deliver(
      settled,
      L + 20,
      put({ dst: ME, MID: 'm1', key: 'k', value: 'v1' }),
      put({ dst: ME, MID: 'm2', key: 'k', value: 'v2' }),
      put({ dst: ME, MID: 'm3', key: 'k', value: 'v3' }),
    ).state
    const acked = deliver(
      withPuts,
      L + 30,
      ...acks(withPuts, [A], 4, L + 20),
      ...acks(withPuts, [B], 3, L + 20),
      ...acks(withPuts, [C], 2, L + 20),
    ).state
    expect(acked.commitIndex).toBe(3)
    expect(read(acked.kv, 'k')).toBe('v2')
  })

  // §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log entries
  // from the leader's current term are committed by counting replicas" (Figure 8).
  it('does not commit an entry of an earlier term stored on a majority (Figure 8)', () => {
    // Leader of term 4 holding (1, 2) from earlier terms; its no-op of term 4 is at 3.
    const leader = leaderOf(4, { log: logOf(noop(1), putEntry(2, 'k', 'old', 'm0')) }).state
    const all = deliver(leader, L + 10, ...acks(leader, [A, B, C, D], 2, L)).state
    expect(all.commitIndex).toBe(0)
    expect(all.lastApplied).toBe(0)
    expect(valuesOf(all.kv)).toEqual({})
  })

  it('commits the earlier-term entries indirectly once an entry of its own term is on a majority', () => {
    const leader = leaderOf(4, { log: logOf(noop(1), putEntry(2, 'k', 'old', 'm0')) }).state
    const stale = deliver(leader, L + 10, ...acks(leader, [A, B], 2, L)).state
    const { state } = deliver(stale, L + 20, ...acks(leader, [A, B], 3, L))
    expect(state.commitIndex).toBe(3)
    expect(read(state.kv, 'k')).toBe('old')
  })

  // Figure 2, AppendEntries arguments: "leaderCommit: leader's commitIndex".
  it('tells followers its commitIndex in the next AppendEntries (leaderCommit)', () => {
    const leader = leaderOf(1).state
    const before = fire(leader, L + HB / 2, 'heartbeat')
    expect(ofType(before.sent, 'append').length).toBeGreaterThan(0)
    for (const m of ofType(before.sent, 'append')) expect(m.leaderCommit).toBe(0)
    const committed = deliver(before.state, L + 260, ...acks(leader, [A, B], 1, L + HB / 2)).state
    expect(committed.commitIndex).toBe(1)
    const heartbeat = fire(committed, L + 260 + HB, 'heartbeat')
    const appends = ofType(heartbeat.sent, 'append')
    expect(appends.length).toBeGreaterThan(0)
    for (const m of appends) expect(m.leaderCommit).toBe(1)
  })

  it('a follower applies what the leader reports committed, in log order', () => {
    const entries = [putEntry(1, 'k', 'a', 'm1'), putEntry(1, 'j', 'x', 'm2'), putEntry(1, 'k', 'b', 'm3'), putEntry(1, 'k', 'c', 'm4')]
    const follower = start(replica(ME)).state
    const stored = deliver(follower, 100, append({ src: A, dst: ME, term: 1, entries }))
    expect(stored.state.commitIndex).toBe(0)
    expect(valuesOf(stored.state.kv)).toEqual({})
    const partly = deliver(stored.state, 200, append({ src: A, dst: ME, term: 1, prevLogIndex: 4, prevLogTerm: 1, leaderCommit: 3 }))
    expect(partly.state.lastApplied).toBe(3)
    expect(valuesOf(partly.state.kv)).toEqual({ k: 'b', j: 'x' })
    const all = deliver(partly.state, 300, append({ src: A, dst: ME, term: 1, prevLogIndex: 4, prevLogTerm: 1, leaderCommit: 4 }))
    expect(valuesOf(all.state.kv)).toEqual({ k: 'c', j: 'x' })
    // A follower does not answer clients for what it applies.
    expect(all.sent.filter((m) => m.type === 'ok')).toEqual([])
  })
})

describe('state machine: applying committed puts', () => {
  // Figure 2, all servers: "If commitIndex > lastApplied: increment lastApplied, apply log[lastApplied] to state machine".
  it('the same MID applied twice changes the store once (a forwarded copy next to the original)', () => {
    const entries = [putEntry(1, 'k', 'a', 'm1'), putEntry(1, 'k', 'b', 'm2'), putEntry(2, 'k', 'a', 'm1')]
    const { state } = deliver(start(replica(ME)).state, 100, append({ src: A, dst: ME, term: 2, entries, leaderCommit: 3 }))
    expect(state.lastApplied).toBe(3)
    expect(valuesOf(state.kv)).toEqual({ k: 'b' })
  })

  it('a leader applying a MID twice answers it once', () => {
    // The entries reached this replica in its current life (a restarted replica answers only what reached it since: client-requests.test.ts).
    const entries = [putEntry(1, 'k', 'a', 'm1'), putEntry(1, 'k', 'b', 'm2'), putEntry(1, 'k', 'a', 'm1')]
    const follower = deliver(start(replica(ME, { term: 1 })).state, 100, append({ src: A, dst: ME, term: 1, entries })).state
    const leader = elect(follower, L).state
    const { state, sent } = deliver(leader, L + 10, ...acks(leader, [A, B], 4, L))
    expect(state.commitIndex).toBe(4)
    expect(valuesOf(state.kv)).toEqual({ k: 'b' })
    expect(repliesTo(sent, 'm1')).toHaveLength(1)
    expect(repliesTo(sent, 'm2')).toHaveLength(1)
  })

  it('a put is answered with exactly one ok, once committed and applied', () => {
    const leader = leaderOf(1).state
    const settled = deliver(leader, L + 10, ...acks(leader, [A, B, C, D], 1, L)).state
    const appended = deliver(settled, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }))
    expect(repliesTo(appended.sent, 'p1')).toEqual([])
    const carriers = ofType(appended.sent, 'append').map((m) => m.dst)
    const one = deliver(appended.state, L + 30, ...acks(settled, carriers.slice(0, 1), 2, L + 20))
    expect(repliesTo(one.sent, 'p1')).toEqual([])
    expect(read(one.state.kv, 'k')).toBeUndefined()
    const two = deliver(one.state, L + 31, ...acks(settled, carriers.slice(1, 2), 2, L + 20))
    expect(repliesTo(two.sent, 'p1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'p1' }])
    expect(read(two.state.kv, 'k')).toBe('v')
    // Late and duplicate acknowledgements, and the next heartbeats, answer nothing more.
    const later = deliver(two.state, L + 40, ...acks(settled, [A, B, C, D], 2, L + 20), ...acks(settled, carriers, 2, L + 20))
    const beat = fire(later.state, L + 40 + HB, 'heartbeat')
    expect(repliesTo([...later.sent, ...beat.sent], 'p1')).toEqual([])
  })
})
