/**
 * Thesis §6.4, "Processing read-only queries more efficiently": ReadIndex, the real cluster's way
 * of answering gets linearizably without trusting clocks (Settings.reads = 'readIndex'). Each test
 * quotes the rule it checks, sets up a leader, steps it, and checks what it sends and keeps.
 */
import { describe, expect, it } from 'vitest'
import { standaloneSettings, withSettings } from '../../src/domain/config'
import type { ReplicaState } from '../../src/domain/state'
import { acks, appendReply, CLIENT, deliver, ELECTED_AT as L, get, leaderOf, logOfTerms, ofType, put, R, repliesTo } from './helpers'

const [ME, A, B, C, D] = R
const FOLLOWERS = [A, B, C, D]

/** A leader of term 2 under the real cluster's settings, its no-op committed; `k = v1` written as p1 when `withValue`. */
const leader = (withValue = true): ReplicaState => {
  const elected = leaderOf(2, { log: logOfTerms(1), settings: standaloneSettings }).state
  const settled = deliver(elected, L + 10, ...acks(elected, FOLLOWERS, 2, L)).state
  if (!withValue) return settled
  const appended = deliver(settled, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' })).state
  return deliver(appended, L + 30, ...acks(appended, FOLLOWERS, 3, L + 20)).state
}

const ok = (MID: string, value?: string) =>
  value === undefined ? { src: ME, dst: CLIENT, leader: ME, type: 'ok', MID } : { src: ME, dst: CLIENT, leader: ME, type: 'ok', MID, value }

describe('thesis §6.4: ReadIndex', () => {
  // §6.4 step 1: "the leader saves its current commit index in a local variable readIndex";
  // step 2: "the leader needs to make sure it hasn't been superseded by a newer leader of which it
  // is unaware. It issues a new round of heartbeats and waits for their acknowledgments".
  it('a get at the leader is not answered at once: it records the commit index and sends a round of AppendEntries to every follower', () => {
    const before = leader()
    const { sent, state } = deliver(before, L + 100, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(repliesTo(sent, 'g1')).toEqual([])
    expect(ofType(sent, 'append').map((m) => m.dst).sort()).toEqual([...FOLLOWERS].sort())
    expect(ofType(sent, 'append').every((m) => m.sentAt === L + 100 && m.term === 2 && m.leaderCommit === 3)).toBe(true)
    expect(state.pendingReads).toEqual([{ request: get({ dst: ME, MID: 'g1', key: 'k' }), readIndex: { since: L + 100, index: before.commitIndex } }])
  })

  // "Once the leader receives acknowledgments from a majority of the cluster" (itself included),
  // "the leader can process the query" from its state machine.
  it('answers once a majority has acknowledged an AppendEntries sent at or after the get arrived', () => {
    const asked = deliver(leader(), L + 100, get({ dst: ME, MID: 'g1', key: 'k' })).state
    const one = deliver(asked, L + 105, ...acks(asked, [A], 3, L + 100))
    expect(repliesTo(one.sent, 'g1')).toEqual([])
    const two = deliver(one.state, L + 106, ...acks(asked, [B], 3, L + 100))
    expect(repliesTo(two.sent, 'g1')).toEqual([ok('g1', 'v1')])
    expect(two.state.pendingReads).toEqual([])
  })

  // The acknowledgment must be of a heartbeat of the new round: an answer to an AppendEntries sent
  // before the get arrived says nothing of who leads after it arrived.
  it('acknowledgments of AppendEntries sent before the get arrived do not confirm it', () => {
    const asked = deliver(leader(), L + 100, get({ dst: ME, MID: 'g1', key: 'k' })).state
    const old = deliver(asked, L + 105, ...acks(asked, FOLLOWERS, 3, L + 99))
    expect(repliesTo(old.sent, 'g1')).toEqual([])
    expect(old.state.pendingReads).toHaveLength(1)
  })

  // Gets arriving together share one round; a later get needs acknowledgments of a later round.
  it('gets arriving at one moment share a round; each is answered when its own round is confirmed', () => {
    const first = deliver(leader(), L + 100, get({ dst: ME, MID: 'g1', key: 'k' }), get({ dst: ME, MID: 'g2', key: 'k' }))
    expect(ofType(first.sent, 'append')).toHaveLength(FOLLOWERS.length)
    const later = deliver(first.state, L + 110, get({ dst: ME, MID: 'g3', key: 'k' }))
    expect(ofType(later.sent, 'append')).toHaveLength(FOLLOWERS.length)
    const confirmed = deliver(later.state, L + 115, ...acks(later.state, [A, B], 3, L + 100))
    expect(confirmed.sent.map((m) => ('MID' in m ? m.MID : m.type))).toEqual(['g1', 'g2'])
    expect(confirmed.state.pendingReads.map((r) => r.request.MID)).toEqual(['g3'])
    const all = deliver(confirmed.state, L + 120, ...acks(later.state, [A, B], 3, L + 110))
    expect(repliesTo(all.sent, 'g3')).toEqual([ok('g3', 'v1')])
  })

  // A get answers from the state machine as it is when confirmed: a write committed meanwhile is
  // seen (linearizable: the get overlapped it).
  it('the answer reflects every write applied by the time the get is confirmed', () => {
    const asked = deliver(leader(), L + 100, get({ dst: ME, MID: 'g1', key: 'k' })).state
    const written = deliver(asked, L + 101, put({ dst: ME, MID: 'p2', key: 'k', value: 'v2' })).state
    const { sent } = deliver(written, L + 105, ...acks(written, [A, B], 4, L + 101))
    expect(repliesTo(sent, 'p2')).toEqual([ok('p2')])
    expect(repliesTo(sent, 'g1')).toEqual([ok('g1', 'v2')])
  })

  // §6.4 step 1: "If the leader has not yet marked an entry from its current term committed, it
  // waits until it has done so."
  it('a new leader answers no get before an entry of its term is committed', () => {
    const elected = leaderOf(2, { log: logOfTerms(1), settings: standaloneSettings }).state
    const asked = deliver(elected, L + 5, get({ dst: ME, MID: 'g1', key: 'k' })).state
    // Acknowledged, but only of the entries before the no-op: nothing of term 2 is committed.
    const early = deliver(asked, L + 8, ...acks(asked, FOLLOWERS, 1, L + 5))
    expect(repliesTo(early.sent, 'g1')).toEqual([])
    const committed = deliver(early.state, L + 9, ...acks(asked, [A, B], 2, L + 5))
    expect(committed.state.commitIndex).toBe(2)
    expect(repliesTo(committed.sent, 'g1')).toEqual([ok('g1')])
  })

  // A leader that learns of a newer term was superseded: it must not answer (the newer leader may
  // have committed writes it has not seen); the get is held and goes to the new leader.
  it('a leader superseded while a get waits steps down without answering it, and holds it for the next leader', () => {
    const asked = deliver(leader(), L + 100, get({ dst: ME, MID: 'g1', key: 'k' })).state
    const deposed = deliver(asked, L + 105, appendReply({ src: A, dst: ME, term: 3, success: false }))
    expect(deposed.state.role).toBe('follower')
    expect(repliesTo(deposed.sent, 'g1')).toEqual([])
    expect(deposed.state.held.map((r) => r.MID)).toEqual(['g1'])
    expect(deposed.state.pendingReads).toEqual([])
  })

  // Unlike the lease (§6.4.1), no clock bounds the answer: long after the last heartbeat, a
  // confirmed round still answers, and a lease would not have helped.
  it('needs no lease: a leader silent for longer than an election timeout still answers after a round', () => {
    const quiet = leader()
    const late = L + 30 + 10 * standaloneSettings.timing.electionTimeoutMaxMs
    const asked = deliver(quiet, late, get({ dst: ME, MID: 'g1', key: 'k' })).state
    const { sent } = deliver(asked, late + 5, ...acks(asked, [C, D], 3, late))
    expect(repliesTo(sent, 'g1')).toEqual([ok('g1', 'v1')])
  })

  // The lease stays an option of the real cluster (`raftkv serve --reads lease`), and the course's way.
  it('under the lease the same leader answers at once, with no round of messages', () => {
    const elected = leaderOf(2, { log: logOfTerms(1), settings: withSettings(standaloneSettings, { reads: 'lease' }) }).state
    const settled = deliver(elected, L + 10, ...acks(elected, FOLLOWERS, 2, L)).state
    const { sent, state } = deliver(settled, L + 20, get({ dst: ME, MID: 'g1', key: 'k' }))
    expect(sent).toEqual([ok('g1')])
    expect(state.pendingReads).toEqual([])
  })
})
