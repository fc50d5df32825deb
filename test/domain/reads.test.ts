/**
 * Gets: linearizable reads under a leader lease (thesis §6.4, §6.4.1), and what happens to waiting
 * gets when the leader is deposed.
 */
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import { canServeReads, leaseExpiry } from '../../src/domain/reads'
import { valuesOf } from '../../src/domain/kv'
import {
  acks,
  append,
  CLIENT,
  CLIENT2,
  deliver,
  ELECTED_AT as L,
  fire,
  get,
  leaderOf,
  logOf,
  MAX,
  MIN,
  noop,
  ofType,
  put,
  putEntry,
  R,
  repliesTo,
  timing,
} from './helpers'

const [ME, A, B, C, D] = R
const MARGIN = timing.leaseMarginMs

/** A leader of term 1 that committed `k = v1` (as put p1) with every follower's acknowledgement at `L + 20`. */
const leaderWithValue = () => {
  const leader = leaderOf(1).state
  const settled = deliver(leader, L + 10, ...acks(leader, [A, B, C, D], 1, L)).state
  const appended = deliver(settled, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' })).state
  return deliver(appended, L + 30, ...acks(appended, [A, B, C, D], 2, L + 20)).state
}

describe('thesis §6.4.1: reads under a leader lease', () => {
  // Thesis §6.4.1: "the leader would use the normal heartbeat mechanism to maintain a lease ... it would
  // assume that no other leader could ... and it could serve read-only queries without contacting others".
  it('a leader with a valid lease answers a get at once, with the value', () => {
    const leader = leaderWithValue()
    expect(leader.commitIndex).toBe(2)
    const { sent, state } = deliver(leader, L + 40, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(sent).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: 'v1' }])
    expect(state.pendingReads).toEqual([])
  })

  it('the lease runs from the send time a majority echoed, plus the minimum election timeout, less a margin', () => {
    const leader = leaderWithValue()
    expect(leaseExpiry(leader, L + 40)).toBe(L + 20 + MIN - MARGIN)
    expect(canServeReads(leader, L + 20 + MIN - MARGIN - 1)).toBe(true)
    expect(canServeReads(leader, L + 20 + MIN - MARGIN)).toBe(false)
  })

  it('answers from committed state only: a put not yet committed is not visible', () => {
    const leader = leaderWithValue()
    const appended = deliver(leader, L + 40, put({ dst: ME, MID: 'p2', key: 'k', value: 'v2' })).state
    const { sent } = deliver(appended, L + 41, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(repliesTo(sent, 'g1')).toEqual([expect.objectContaining({ type: 'ok', value: 'v1' })])
  })

  it('once the lease has run out, a get waits for fresh acknowledgements', () => {
    const leader = leaderWithValue()
    const expiry = L + 20 + MIN - MARGIN
    const waiting = deliver(leader, expiry, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(waiting.sent).toEqual([])
    expect(waiting.state.pendingReads.map((r) => r.request.MID)).toEqual(['g1'])
    // One fresh acknowledgement is not a majority (with the leader, 2 of 5).
    const one = deliver(waiting.state, expiry + 5, ...acks(leader, [A], 2, expiry))
    expect(repliesTo(one.sent, 'g1')).toEqual([])
    const two = deliver(one.state, expiry + 6, ...acks(leader, [B], 2, expiry))
    expect(repliesTo(two.sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: 'v1' }])
    expect(two.state.pendingReads).toEqual([])
  })

  // §8: "a leader must have the latest information on which entries are committed ... Raft handles this
  // by having each leader commit a blank no-op entry into the log at the start of its term".
  it('a new leader answers no get until an entry of its term is committed and a majority has acknowledged', () => {
    const leader = leaderOf(3, { log: logOf(noop(1), putEntry(2, 'k', 'old', 'm0')) }).state
    const waiting = deliver(leader, L + 1, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(waiting.sent).toEqual([])
    // A majority holds the entries of earlier terms, acknowledged just now: still not enough (Figure 8).
    const stale = deliver(waiting.state, L + 10, ...acks(leader, [A, B, C, D], 2, L))
    expect(stale.state.commitIndex).toBe(0)
    expect(repliesTo(stale.sent, 'g1')).toEqual([])
    // The no-op of term 3 reaches a majority: now the state machine is up to date.
    const ready = deliver(stale.state, L + 20, ...acks(leader, [A, B], 3, L))
    expect(ready.state.commitIndex).toBe(3)
    expect(repliesTo(ready.sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: 'old' }])
  })

  it('a put\'s ok goes out before the reply of a get that reflects it', () => {
    const leader = leaderOf(1).state
    const withPut = deliver(leader, L + 1, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' }))
    const withGet = deliver(withPut.state, L + 2, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(withGet.sent).toEqual([])
    const { sent } = deliver(withGet.state, L + 10, ...acks(leader, [A, B], 2, L + 1))
    expect(sent.map((m) => ('MID' in m ? m.MID : m.type))).toEqual(['p1', 'g1'])
    expect(sent[1]).toMatchObject({ type: 'ok', value: 'v1' })
  })

  it('a get of a key never written is answered with the empty value', () => {
    const leader = leaderWithValue()
    const { sent } = deliver(leader, L + 40, get({ dst: ME, MID: 'g1', key: 'nothing' }))
    expect(sent).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: '' }])
  })
})

describe('a deposed leader never answers a get from its stale state', () => {
  it('a leader cut off from the others stops answering gets once its lease is over', () => {
    const leader = leaderWithValue()
    const later = deliver(leader, L + 20 + MIN, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(repliesTo(later.sent, 'g1')).toEqual([])
  })

  it('its waiting gets are redirected to the new leader when it steps down', () => {
    const leader = leaderWithValue()
    const waiting = deliver(
      leader,
      L + 20 + MIN,
      get({ dst: ME, MID: 'g1', key: 'k' }),
      get({ dst: ME, MID: 'g2', key: 'k', src: CLIENT2 }),
    ).state
    // A new leader (term 2) was elected among the others; its first AppendEntries reaches us.
    const { state, sent } = deliver(waiting, L + 20 + MIN + 10, append({ src: C, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: [noop(2)] }))
    expect(state.role).toBe('follower')
    expect(state.pendingReads).toEqual([])
    expect(state.held).toEqual([])
    expect(repliesTo(sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: C, type: 'redirect', MID: 'g1' }])
    expect(repliesTo(sent, 'g2')).toEqual([{ src: ME, dst: CLIENT2, leader: C, type: 'redirect', MID: 'g2' }])
    expect(sent.filter((m) => m.type === 'ok')).toEqual([])
  })

  it('after check-quorum makes it step down, its waiting gets are held until a leader is known, then redirected', () => {
    const leader = leaderWithValue()
    const waiting = deliver(leader, L + 20 + MIN, get({ dst: ME, MID: 'g1', key: 'k' })).state
    const down = fire(waiting, L + 20 + MAX + 1, 'heartbeat')
    expect(down.state.role).toBe('follower')
    expect(down.state.leader).toEqual(O.none)
    expect(repliesTo(down.sent, 'g1')).toEqual([])
    expect(down.state.held.map((r) => r.MID)).toEqual(['g1'])
    const { sent } = deliver(down.state, L + 20 + MAX + 2, append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 1 }))
    expect(repliesTo(sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: B, type: 'redirect', MID: 'g1' }])
  })

  it('a get at a follower is never answered from its own copy of the store', () => {
    const follower = deliver(
      leaderOf(1, { id: A }).state,
      L + 1,
      append({ src: B, dst: A, term: 2, entries: [putEntry(2, 'k', 'v', 'm1')], leaderCommit: 1 }),
    ).state
    expect(valuesOf(follower.kv)).toEqual({ k: 'v' })
    const { sent } = deliver(follower, L + 2, get({ dst: A, MID: 'g1', key: 'k' }))
    expect(ofType(sent, 'ok')).toEqual([])
    expect(repliesTo(sent, 'g1')).toEqual([{ src: A, dst: CLIENT, leader: B, type: 'redirect', MID: 'g1' }])
  })
})
