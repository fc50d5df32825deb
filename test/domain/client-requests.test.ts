/**
 * Clients (§8 and the simulator's protocol, shared/protocol.md): redirects, held requests, puts
 * answered once committed, puts lost to a new leader, and exactly one reply per MID.
 */
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import { defaultSettings } from '../../src/domain/config'

const QUICK_RETRY_MS = defaultSettings.timing.quickRetryMs
import { read, valuesOf } from '../../src/domain/kv'
import type { Forward } from '../../src/domain/wire'
import { Cluster } from './cluster'
import {
  acks,
  append,
  CLIENT,
  CLIENT2,
  deliver,
  elect,
  ELECTED_AT as L,
  FFFF,
  get,
  HB,
  leaderOf,
  logOf,
  logOfTerms,
  noop,
  ofType,
  put,
  putCmd,
  putEntry,
  R,
  replica,
  repliesTo,
  start,
  terms,
} from './helpers'

const [ME, A, B, C, D] = R

/** A follower of term 1 that knows A as its leader (heard at `at`). */
const followerOf = (leader = A, at = 1000) =>
  deliver(start(replica(ME)).state, at, append({ src: leader, dst: ME, term: 1 })).state

describe('§8, clients at a follower', () => {
  // §8: "If the client contacts a follower, the follower will reject the client's request and supply
  // information about the most recent leader it has heard from".
  it('redirects a request to the leader it knows, naming it in the leader field', () => {
    const { sent, state } = deliver(followerOf(), 1100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF }), put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }))
    expect(sent).toEqual([
      { src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'g1' },
      { src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'p1' },
    ])
    expect(state.held).toEqual([])
    expect(state.persistent.log.entries).toHaveLength(0)
  })

  it('with no leader known, holds the request (no reply, nothing dropped)', () => {
    const follower = start(replica(ME)).state
    const { sent, state } = deliver(follower, 100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF }), put({ dst: ME, MID: 'p1', key: 'k', value: 'v', src: CLIENT2, leader: FFFF }))
    expect(sent).toEqual([])
    expect(state.held.map((r) => r.MID)).toEqual(['g1', 'p1'])
  })

  it('redirects held requests as soon as a leader is known, each exactly once', () => {
    const follower = start(replica(ME)).state
    const holding = deliver(follower, 100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF }), put({ dst: ME, MID: 'p1', key: 'k', value: 'v', src: CLIENT2, leader: FFFF })).state
    const { sent, state } = deliver(holding, 2000, append({ src: B, dst: ME, term: 1 }))
    expect(repliesTo(sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: B, type: 'redirect', MID: 'g1' }])
    expect(repliesTo(sent, 'p1')).toEqual([{ src: ME, dst: CLIENT2, leader: B, type: 'redirect', MID: 'p1' }])
    expect(state.held).toEqual([])
    const again = deliver(state, 2100, append({ src: B, dst: ME, term: 1 }))
    expect(repliesTo(again.sent, 'g1')).toEqual([])
  })

  it('a replica that wins an election serves the requests it held', () => {
    const follower = start(replica(ME)).state
    const holding = deliver(follower, 100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF }), put({ dst: ME, MID: 'p1', key: 'k', value: 'v', leader: FFFF })).state
    const leader = elect(holding, 2000)
    expect(leader.state.role).toBe('leader')
    expect(repliesTo(leader.sent, 'g1')).toEqual([])
    expect(repliesTo(leader.sent, 'p1')).toEqual([])
    expect(leader.state.persistent.log.entries.map((e) => e.command.op)).toEqual(['noop', 'put'])
    const { sent } = deliver(leader.state, 2010, ...acks(leader.state, [A, B], 2, 2000))
    expect(sent.filter((m) => 'MID' in m)).toEqual([
      { src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'p1' },
      { src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: 'v' },
    ])
  })

  // protocol.md: a client whose remembered leader is dead sends to a random replica with leader FFFF.
  it('a quick retry with leader FFFF after our redirect means clients cannot reach that leader: hold it', () => {
    const redirected = deliver(followerOf(A, 1000), 1100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF }))
    expect(repliesTo(redirected.sent, 'g1')).toHaveLength(1)
    const retry = deliver(redirected.state, 1100 + QUICK_RETRY_MS - 1, get({ dst: ME, MID: 'g2', key: 'k', leader: FFFF }))
    expect(retry.sent).toEqual([])
    expect(retry.state.held.map((r) => r.MID)).toEqual(['g2'])
    expect(retry.state.unreachableLeader).toEqual(O.some(A))
    // Other clients' requests are held too rather than sent to the unreachable leader.
    const other = deliver(retry.state, 1150, put({ dst: ME, MID: 'p1', key: 'j', value: 'v', src: CLIENT2, leader: A }))
    expect(other.sent).toEqual([])
    // A new leader: everything held goes to it.
    const { sent, state } = deliver(other.state, 3000, append({ src: C, dst: ME, term: 2 }))
    expect(repliesTo(sent, 'g2')).toEqual([{ src: ME, dst: CLIENT, leader: C, type: 'redirect', MID: 'g2' }])
    expect(repliesTo(sent, 'p1')).toEqual([{ src: ME, dst: CLIENT2, leader: C, type: 'redirect', MID: 'p1' }])
    expect(state.held).toEqual([])
  })

  it('if the leader thought unreachable is heard from again, the held requests go to it', () => {
    const redirected = deliver(followerOf(A, 1000), 1100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF })).state
    const held = deliver(redirected, 1150, get({ dst: ME, MID: 'g2', key: 'k', leader: FFFF })).state
    const { sent, state } = deliver(held, 1200, append({ src: A, dst: ME, term: 1 }))
    expect(repliesTo(sent, 'g2')).toEqual([{ src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'g2' }])
    expect(state.unreachableLeader).toEqual(O.none)
  })

  it('a retry that is not quick, or that names a leader, is redirected again', () => {
    const redirected = deliver(followerOf(A, 1000), 1100, get({ dst: ME, MID: 'g1', key: 'k', leader: FFFF })).state
    const slow = deliver(redirected, 1100 + QUICK_RETRY_MS, get({ dst: ME, MID: 'g2', key: 'k', leader: FFFF }))
    expect(repliesTo(slow.sent, 'g2')).toEqual([{ src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'g2' }])
    const named = deliver(redirected, 1110, get({ dst: ME, MID: 'g3', key: 'k', leader: A }))
    expect(repliesTo(named.sent, 'g3')).toEqual([{ src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'g3' }])
    const otherClient = deliver(redirected, 1110, get({ dst: ME, MID: 'g4', key: 'k', leader: FFFF, src: CLIENT2 }))
    expect(repliesTo(otherClient.sent, 'g4')).toHaveLength(1)
  })
})

describe('puts lost to a new leader, and puts whose leader died', () => {
  /** Leader of term 1 (all followers hold its no-op), which then appended put p1 at index 2. */
  const leaderWithUncommittedPut = () => {
    const leader = leaderOf(1).state
    const settled = deliver(leader, L + 10, ...acks(leader, [A, B, C, D], 1, L)).state
    return deliver(settled, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' })).state
  }
  /** The AppendEntries of B, leader of term 2, whose log is (1, 2): it never had p1. */
  const fromNewLeader = (at: number, extra: Partial<{ leaderCommit: number }> = {}) =>
    append({ src: B, dst: ME, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [noop(2)], sentAt: at, ...extra })

  it('a deposed leader whose put was truncated forwards it to the new leader and never answers it itself', () => {
    const old = leaderWithUncommittedPut()
    const { state, sent } = deliver(old, L + 100, fromNewLeader(L + 100))
    expect(state.role).toBe('follower')
    expect(terms(state.persistent.log)).toEqual([1, 2])
    const forwards = ofType(sent, 'forward')
    expect(forwards).toHaveLength(1)
    expect(forwards[0]).toMatchObject({ src: ME, dst: B, leader: B, type: 'forward' })
    expect(forwards[0]!.puts).toEqual([putCmd('k', 'v1', 'p1')])
    expect(repliesTo(sent, 'p1')).toEqual([])
  })

  it('forwards again only after a while, and stops once the put is applied', () => {
    const old = leaderWithUncommittedPut()
    const first = deliver(old, L + 100, fromNewLeader(L + 100)).state
    const soon = deliver(first, L + 100 + HB, append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 2 }))
    expect(ofType(soon.sent, 'forward')).toEqual([])
    const later = deliver(soon.state, L + 100 + 2 * HB, append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 2 }))
    expect(ofType(later.sent, 'forward')).toHaveLength(1)
    // B appended the forwarded put at 3 and committed it.
    const applied = deliver(
      later.state,
      L + 100 + 2 * HB + 1,
      append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 2, entries: [putEntry(2, 'k', 'v1', 'p1')], leaderCommit: 3 }),
    )
    expect(valuesOf(applied.state.kv)).toEqual({ k: 'v1' })
    expect(applied.state.ownPuts.size).toBe(0)
    const after = deliver(applied.state, L + 100 + 10 * HB, append({ src: B, dst: ME, term: 2, prevLogIndex: 3, prevLogTerm: 2, leaderCommit: 3 }))
    expect(ofType(after.sent, 'forward')).toEqual([])
    expect([...later.sent, ...applied.sent, ...after.sent].filter((m) => 'MID' in m)).toEqual([])
  })

  it('a put that survives in the new leader\'s log is not forwarded', () => {
    const old = leaderWithUncommittedPut()
    const { sent } = deliver(
      old,
      L + 100,
      append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: [noop(2)] }),
    )
    expect(ofType(sent, 'forward')).toEqual([])
  })

  const forward = (puts: ReturnType<typeof putCmd>[]): Forward => ({ src: A, dst: B, leader: B, type: 'forward', puts })

  it('the new leader appends a forwarded put and answers it once committed', () => {
    const leader = leaderOf(2, { id: B, log: logOfTerms(1) }).state
    const settled = deliver(leader, L + 10, ...acks(leader, [ME, A, C, D], 2, L)).state
    const got = deliver(settled, L + 20, forward([putCmd('k', 'v1', 'p1')]))
    expect(got.state.persistent.log.entries[2]).toEqual(putEntry(2, 'k', 'v1', 'p1'))
    const carriers = ofType(got.sent, 'append').map((m) => m.dst)
    expect(carriers).toHaveLength(2)
    expect(repliesTo(got.sent, 'p1')).toEqual([])
    // The same put forwarded again while in the log is not appended twice.
    const twice = deliver(got.state, L + 25, forward([putCmd('k', 'v1', 'p1')]))
    expect(twice.state.persistent.log.entries).toHaveLength(3)
    const { state, sent } = deliver(twice.state, L + 30, ...acks(leader, carriers, 3, L + 20))
    expect(repliesTo(sent, 'p1')).toEqual([{ src: B, dst: CLIENT, leader: B, type: 'ok', MID: 'p1' }])
    expect(valuesOf(state.kv)).toEqual({ k: 'v1' })
    // Forwarded once more after it was applied: nothing is appended or answered.
    const late = deliver(state, L + 40, forward([putCmd('k', 'v1', 'p1')]))
    expect(late.state.persistent.log.entries).toHaveLength(3)
    expect(late.sent).toEqual([])
  })

  it('a forward reaching a replica that is not leader is ignored', () => {
    const follower = followerOf(A)
    const { state, sent } = deliver(follower, 1100, { src: A, dst: ME, leader: A, type: 'forward', puts: [putCmd('k', 'v', 'p9')] })
    expect(sent).toEqual([])
    expect(state.persistent.log.entries).toHaveLength(0)
  })

  it('a put committed after its leader died is answered (ok) by the next leader', () => {
    // The old leader A replicated p1 to B and C, then died before hearing back. B, C and D elect B.
    const replicated = deliver(start(replica(B, { term: 1 })).state, 1000, append({ src: A, dst: B, term: 1, entries: [noop(1), putEntry(1, 'k', 'v1', 'p1')] }))
    const leader = elect(replicated.state, L).state
    expect(terms(leader.persistent.log)).toEqual([1, 1, 2])
    const one = deliver(leader, L + 10, ...acks(leader, [C], 3, L))
    expect(repliesTo(one.sent, 'p1')).toEqual([])
    const { state, sent } = deliver(one.state, L + 11, ...acks(leader, [D], 3, L), ...acks(leader, [C, D], 3, L))
    expect(state.commitIndex).toBe(3)
    expect(repliesTo(sent, 'p1')).toEqual([{ src: B, dst: CLIENT, leader: B, type: 'ok', MID: 'p1' }])
  })

  // Issue 29: a replica answers only requests that reached it in its current life (or their retries).
  describe('after the whole cluster restarted on what it stored', () => {
    /** B restarted with puts p1 and p2 of an earlier run in its log, and was elected in term 2; C and D store its no-op. */
    const restartedLeader = () => leaderOf(2, { id: B, log: logOf(noop(1), putEntry(1, 'k', 'v1', 'p1'), putEntry(1, 'k', 'v2', 'p2')) }).state

    it('the new leader applies the previous run\'s puts but sends their long-gone clients no ok', () => {
      const leader = restartedLeader()
      const { state, sent } = deliver(leader, L + 10, ...acks(leader, [C, D], 4, L))
      expect(state.lastApplied).toBe(4)
      expect(read(state.kv, 'k')).toBe('v2')
      expect(sent.filter((m) => m.type === 'ok')).toEqual([])
    })

    it('a retry of one of those puts, once applied, gets its ok at once, and only that one', () => {
      const leader = restartedLeader()
      const applied = deliver(leader, L + 10, ...acks(leader, [C, D], 4, L)).state
      const { sent } = deliver(applied, L + 20, put({ dst: B, MID: 'p2', key: 'k', value: 'v2' }))
      expect(sent).toEqual([{ src: B, dst: CLIENT, leader: B, type: 'ok', MID: 'p2' }])
    })

    it('a retry that reaches the new leader before the put commits is answered when it is applied', () => {
      const leader = restartedLeader()
      const retried = deliver(leader, L + 5, put({ dst: B, MID: 'p1', key: 'k', value: 'v1' }))
      expect(retried.sent.filter((m) => m.type === 'append')).toEqual([])
      const { sent } = deliver(retried.state, L + 10, ...acks(leader, [C, D], 4, L))
      expect(sent.filter((m) => m.type === 'ok')).toEqual([{ src: B, dst: CLIENT, leader: B, type: 'ok', MID: 'p1' }])
    })

    it('the new leader tells its followers which puts it leaves unanswered', () => {
      const elected = leaderOf(2, { id: B, log: logOf(noop(1), putEntry(1, 'k', 'v1', 'p1'), putEntry(1, 'k', 'v2', 'p2')) })
      const appends = ofType(elected.sent, 'append')
      expect(appends.length).toBeGreaterThan(0)
      for (const m of appends) expect(m.recoveredUpTo).toBe(3)
      // A leader that recovered nothing sends AppendEntries as before, without the field.
      for (const m of ofType(leaderOf(2, { id: B }).sent, 'append')) expect(m).not.toHaveProperty('recoveredUpTo')
    })

    // The request reached the deposed leader (ME) in its current life, and the new leader B restarted
    // with the put in its log: B applies it unanswered, so ME, which took it, answers it.
    const commitsP1 = (recoveredUpTo: number | undefined) => ({
      ...append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: [noop(2)], leaderCommit: 3 }),
      ...(recoveredUpTo === undefined ? {} : { recoveredUpTo }),
    })

    it('a deposed leader answers its own put when the new leader applied it from its recovered log', () => {
      const { state, sent } = deliver(leaderWithUncommittedPut(), L + 100, commitsP1(2))
      expect(state.role).toBe('follower')
      expect(read(state.kv, 'k')).toBe('v1')
      expect(repliesTo(sent, 'p1')).toEqual([{ src: ME, dst: CLIENT, leader: B, type: 'ok', MID: 'p1' }])
      expect(state.ownPuts.size).toBe(0)
    })

    it('a deposed leader leaves its own put to the new leader that answered it (no duplicate ok)', () => {
      const { state, sent } = deliver(leaderWithUncommittedPut(), L + 100, commitsP1(undefined))
      expect(read(state.kv, 'k')).toBe('v1')
      expect(repliesTo(sent, 'p1')).toEqual([])
      expect(state.ownPuts.size).toBe(0)
    })

    it('a follower answers no put it did not take, whatever the leader left unanswered', () => {
      const follower = deliver(start(replica(ME, { term: 1 })).state, 1000, append({ src: A, dst: ME, term: 1, entries: [noop(1), putEntry(1, 'k', 'v1', 'p1')] })).state
      const { state, sent } = deliver(follower, 2000, commitsP1(2))
      expect(read(state.kv, 'k')).toBe('v1')
      expect(sent.filter((m) => m.type === 'ok')).toEqual([])
    })

    it('a put that replaced a recovered entry in this life is answered by the leader that applies it', () => {
      // C restarted with p1 at index 2 (never committed); leader A of term 2 replaced it with p3.
      const restarted = start(replica(C, { term: 1, log: logOf(noop(1), putEntry(1, 'k', 'v1', 'p1')) })).state
      const replaced = deliver(restarted, 1000, append({ src: A, dst: C, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [putEntry(2, 'k', 'v3', 'p3')] }))
      expect(replaced.state.recoveredUpTo).toBe(1)
      const leader = elect(replaced.state, L).state
      const { sent } = deliver(leader, L + 10, ...acks(leader, [B, D], 3, L))
      expect(repliesTo(sent, 'p3')).toEqual([{ src: C, dst: CLIENT, leader: C, type: 'ok', MID: 'p3' }])
    })
  })

  it('a retry of a put already applied and answered gets its ok again at once, in the course\'s mode too (a duplicate ok, not silence)', () => {
    const leader = leaderOf(2, { id: B, log: logOfTerms(1) }).state
    const settled = deliver(leader, L + 10, ...acks(leader, [ME, A, C, D], 2, L)).state
    expect(settled.settings.clients).toBe('course')
    const appended = deliver(settled, L + 20, put({ dst: B, MID: 'p1', key: 'k', value: 'v1' }))
    const carriers = ofType(appended.sent, 'append').map((m) => m.dst)
    const applied = deliver(appended.state, L + 30, ...acks(leader, carriers, 3, L + 20))
    expect(repliesTo(applied.sent, 'p1')).toEqual([{ src: B, dst: CLIENT, leader: B, type: 'ok', MID: 'p1' }])
    const retry = deliver(applied.state, L + 40, put({ dst: B, MID: 'p1', key: 'k', value: 'v1' }))
    expect(retry.sent).toEqual([{ src: B, dst: CLIENT, leader: B, type: 'ok', MID: 'p1' }])
    expect(retry.state.persistent.log.entries).toHaveLength(3)
  })

  it('a put in the log of a deposed leader is never redirected, even with a new leader known', () => {
    const old = leaderWithUncommittedPut()
    // The new leader B has p1 too (it was one of the followers it went to).
    const { sent, state } = deliver(
      old,
      L + 100,
      append({ src: B, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 1, entries: [noop(2)] }),
    )
    expect(state.leader).toEqual(O.some(B))
    expect(repliesTo(sent, 'p1')).toEqual([])
    expect(state.held).toEqual([])
  })
})

describe('exactly one reply per MID: a scripted scenario', () => {
  it('holds, redirects, lease reads, a partitioned leader deposed, and a put at the new leader', () => {
    const [R0, R1, R2, R3] = [ME, A, B, C]
    const cluster = new Cluster(R).startAll()
    const ask = (at: number, r: Parameters<typeof cluster.request>[0]) => cluster.at(at).request(r).flush()

    ask(100, get({ dst: R3, MID: 'g1', key: 'k', leader: FFFF }))
    ask(200, put({ dst: R2, MID: 'p0', key: 'k', value: 'v0', leader: FFFF, src: CLIENT2 }))
    expect(cluster.toClients).toEqual([])

    // R0 wins the first election; the held requests are redirected to it.
    cluster.at(2000).fire(R0, 'election').flush()
    expect(cluster.leaders()).toEqual([R0])
    expect(cluster.state(R0).commitIndex).toBe(1)
    expect(cluster.repliesTo('g1')).toEqual([{ src: R3, dst: CLIENT, leader: R0, type: 'redirect', MID: 'g1' }])
    expect(cluster.repliesTo('p0')).toEqual([{ src: R2, dst: CLIENT2, leader: R0, type: 'redirect', MID: 'p0' }])

    ask(2010, get({ dst: R0, MID: 'g1b', key: 'k' }))
    expect(cluster.repliesTo('g1b')).toEqual([{ src: R0, dst: CLIENT, leader: R0, type: 'ok', MID: 'g1b', value: '' }])
    ask(2030, get({ dst: R1, MID: 'g3', key: 'k', leader: FFFF }))
    expect(cluster.repliesTo('g3')).toEqual([{ src: R1, dst: CLIENT, leader: R0, type: 'redirect', MID: 'g3' }])

    // R0 is cut off from the other replicas. Within its lease it still answers; after, it waits.
    cluster.drop = (m, to) => m.src === R0 || to === R0
    ask(2200, get({ dst: R0, MID: 'g4', key: 'k' }))
    expect(cluster.repliesTo('g4')).toEqual([expect.objectContaining({ type: 'ok', value: '' })])
    ask(3500, get({ dst: R0, MID: 'g5', key: 'k' }))
    expect(cluster.repliesTo('g5')).toEqual([])

    // The partition heals as R1 campaigns: R0 refuses (it is still leader) but R1 wins and deposes it.
    cluster.drop = () => false
    cluster.at(4000).fire(R1, 'election').flush()
    expect(cluster.leaders()).toEqual([R1])
    expect(cluster.state(R0).persistent.currentTerm).toBe(2)
    expect(cluster.repliesTo('g5')).toEqual([{ src: R0, dst: CLIENT, leader: R1, type: 'redirect', MID: 'g5' }])

    // The put, retried at the new leader, is answered once committed; a get then sees it.
    ask(4100, put({ dst: R1, MID: 'p0b', key: 'k', value: 'v0', src: CLIENT2 }))
    expect(cluster.repliesTo('p0b')).toEqual([{ src: R1, dst: CLIENT2, leader: R1, type: 'ok', MID: 'p0b' }])
    ask(4110, get({ dst: R1, MID: 'g6', key: 'k' }))
    expect(cluster.repliesTo('g6')).toEqual([{ src: R1, dst: CLIENT, leader: R1, type: 'ok', MID: 'g6', value: 'v0' }])
    ask(4120, get({ dst: R0, MID: 'g7', key: 'k', leader: R0 }))
    expect(cluster.repliesTo('g7')).toEqual([{ src: R0, dst: CLIENT, leader: R1, type: 'redirect', MID: 'g7' }])

    // Every MID got exactly one reply, addressed to the client that asked.
    for (const request of cluster.requests) {
      const replies = cluster.repliesTo(request.MID)
      expect(replies, request.MID).toHaveLength(1)
      expect(replies[0]!.dst).toBe(request.src)
    }
    expect(cluster.toClients).toHaveLength(cluster.requests.length)
  })
  it('a put truncated at a partitioned, deposed leader is forwarded, and answered once by the new leader', () => {
    const [R0, R1] = [ME, A]
    const cluster = new Cluster(R).startAll()
    cluster.at(2000).fire(R0, 'election').flush()
    cluster.drop = (m, to) => m.src === R0 || to === R0
    cluster.at(2100).request(put({ dst: R0, MID: 'p1', key: 'k', value: 'v1' })).flush()
    cluster.at(2200).request(put({ dst: R0, MID: 'p2', key: 'k', value: 'v2', src: CLIENT2 })).flush()
    expect(cluster.toClients).toEqual([])
    // R1 is elected without R0, whose puts never left it; then the partition heals.
    cluster.at(4000).fire(R1, 'election').flush()
    expect(cluster.leaders()).toEqual([R0, R1])
    cluster.drop = () => false
    cluster.at(4300).fire(R1, 'heartbeat').flush()
    expect(cluster.leaders()).toEqual([R1])
    expect(cluster.repliesTo('p1')).toEqual([{ src: R1, dst: CLIENT, leader: R1, type: 'ok', MID: 'p1' }])
    expect(cluster.repliesTo('p2')).toEqual([{ src: R1, dst: CLIENT2, leader: R1, type: 'ok', MID: 'p2' }])
    // Everyone converges on one log holding each put once.
    // Followers learn the commitment from the next AppendEntries each gets (after at most a heartbeat interval).
    cluster.at(4800).fire(R1, 'heartbeat').flush()
    cluster.at(4300 + 2 * HB).fire(R1, 'heartbeat').flush()
    for (const r of R) {
      expect(cluster.state(r).persistent.log.entries.filter((e) => e.command.op === 'put')).toHaveLength(2)
      expect(valuesOf(cluster.state(r).kv)).toEqual({ k: read(cluster.state(R1).kv, 'k') })
    }
    expect(cluster.toClients).toHaveLength(2)
  })
})
