/**
 * The real cluster's client requests in the reducer: delete and compare-and-set as log commands,
 * applied once per MID like puts (thesis §6.3: "clients ... assign unique serial numbers to every
 * command ... If it receives a command whose serial number has already been executed, it responds
 * immediately without re-executing the request"), and the standalone way of answering (a key with
 * no value, a retried write that took effect already); and the course's protocol unchanged by them.
 */
import { describe, expect, it } from 'vitest'
import { applyCommand, emptyKv, hasApplied, read } from '../../src/domain/kv'
import { defaultSettings, standaloneSettings, type Settings } from '../../src/domain/config'
import type { ReplicaState } from '../../src/domain/state'
import type { CasRequest, DeleteRequest, Message } from '../../src/domain/wire'
import { acks, append, CLIENT, deliver, ELECTED_AT as L, get, leaderOf, logOfTerms, put, R, replica, repliesTo } from './helpers'

const [ME, A, B, C, D] = R
const FOLLOWERS = [A, B, C, D]

const del = (m: { MID: string; key: string }): DeleteRequest => ({ src: CLIENT, dst: ME, leader: ME, type: 'delete', ...m })
const cas = (m: { MID: string; key: string; expected: string | null; value: string }): CasRequest => ({
  src: CLIENT,
  dst: ME,
  leader: ME,
  type: 'cas',
  ...m,
})

/** A leader of term 2 with its no-op committed, under `settings`. */
const settledLeader = (settings: Settings = standaloneSettings): ReplicaState => {
  const leader = leaderOf(2, { log: logOfTerms(1), settings }).state
  return deliver(leader, L + 10, ...acks(leader, FOLLOWERS, 2, L)).state
}

/** Delivers a write, then every follower's acknowledgement of it; returns the state and what was sent. */
const commit = (s: ReplicaState, now: number, request: Message): { state: ReplicaState; sent: Message[] } => {
  const appended = deliver(s, now, request).state
  const index = appended.persistent.log.entries.length
  return deliver(appended, now + 5, ...acks(appended, FOLLOWERS, index, now))
}

describe('delete and compare-and-set in the state machine', () => {
  const put = (key: string, value: string, MID: string) => ({ op: 'put' as const, key, value, client: CLIENT, MID })
  const base = applyCommand(emptyKv, put('k', 'v1', 'm1'))

  it('a delete removes the value and remembers its MID', () => {
    const after = applyCommand(base, { op: 'delete', key: 'k', client: CLIENT, MID: 'd1' })
    expect(read(after, 'k')).toBeUndefined()
    expect(hasApplied(after, 'd1')).toBe(true)
    // Applied again under the same MID (a retry, a forwarded copy): nothing changes.
    const again = applyCommand(applyCommand(after, put('k', 'v2', 'm2')), { op: 'delete', key: 'k', client: CLIENT, MID: 'd1' })
    expect(read(again, 'k')).toBe('v2')
  })

  it('a compare-and-set writes only when the value is the expected one, and remembers only a write', () => {
    const wrote = applyCommand(base, { op: 'cas', key: 'k', expected: 'v1', value: 'v2', client: CLIENT, MID: 'c1' })
    expect(read(wrote, 'k')).toBe('v2')
    expect(hasApplied(wrote, 'c1')).toBe(true)
    const failed = applyCommand(wrote, { op: 'cas', key: 'k', expected: 'v1', value: 'v3', client: CLIENT, MID: 'c2' })
    expect(failed).toBe(wrote)
    expect(hasApplied(failed, 'c2')).toBe(false)
    // Expecting no value: only a key with none.
    expect(read(applyCommand(wrote, { op: 'cas', key: 'new', expected: null, value: 'n', client: CLIENT, MID: 'c3' }), 'new')).toBe('n')
    expect(applyCommand(wrote, { op: 'cas', key: 'k', expected: null, value: 'n', client: CLIENT, MID: 'c4' })).toBe(wrote)
  })
})

describe('the leader answers deletes and compare-and-sets once committed', () => {
  it('a delete is answered ok once applied, and the key has no value', () => {
    const written = commit(settledLeader(), L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' })).state
    const { state, sent } = commit(written, L + 30, del({ MID: 'd1', key: 'k' }))
    expect(repliesTo(sent, 'd1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'd1' }])
    expect(read(state.kv, 'k')).toBeUndefined()
  })

  it('a compare-and-set is answered ok when it wrote and fail when the comparison failed', () => {
    const written = commit(settledLeader(), L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' })).state
    const wrote = commit(written, L + 30, cas({ MID: 'c1', key: 'k', expected: 'v1', value: 'v2' }))
    expect(repliesTo(wrote.sent, 'c1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'c1' }])
    const failed = commit(wrote.state, L + 40, cas({ MID: 'c2', key: 'k', expected: 'v1', value: 'v3' }))
    expect(repliesTo(failed.sent, 'c2')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'fail', MID: 'c2' }])
    expect(read(failed.state.kv, 'k')).toBe('v2')
  })
})

describe('answering clients: standalone and course', () => {
  it('standalone: a get of a key with no value is answered without a value; course: with the empty value', () => {
    // Standalone reads are ReadIndex: answered once a majority has acknowledged the round sent for it.
    const asked = deliver(settledLeader(standaloneSettings), L + 20, get({ dst: ME, MID: 'g1', key: 'none' })).state
    const standalone = deliver(asked, L + 25, ...acks(asked, [A, B], 1, L + 20))
    expect(repliesTo(standalone.sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1' }])
    const course = deliver(settledLeader(defaultSettings), L + 20, get({ dst: ME, MID: 'g1', key: 'none' }))
    expect(repliesTo(course.sent, 'g1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'g1', value: '' }])
  })

  // §6.3: "If it receives a command whose serial number has already been executed, it responds
  // immediately without re-executing the request."
  it('a delete or a compare-and-set retried after it took effect is answered ok at once, and not appended again', () => {
    const written = commit(settledLeader(), L + 20, cas({ MID: 'c1', key: 'k', expected: null, value: 'v1' })).state
    const deleted = commit(written, L + 30, del({ MID: 'd1', key: 'k' })).state
    for (const retry of [cas({ MID: 'c1', key: 'k', expected: null, value: 'v1' }), del({ MID: 'd1', key: 'k' })]) {
      const { state, sent } = deliver(deleted, L + 40, retry)
      expect(state.persistent.log).toBe(deleted.persistent.log)
      expect(repliesTo(sent, retry.MID)).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: retry.MID }])
    }
  })

  it('a compare-and-set that failed is not remembered: its retry is compared afresh, and writes once the value matches', () => {
    const failed = commit(settledLeader(), L + 20, cas({ MID: 'c1', key: 'k', expected: 'v0', value: 'v1' }))
    expect(repliesTo(failed.sent, 'c1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'fail', MID: 'c1' }])
    const set = commit(failed.state, L + 30, put({ dst: ME, MID: 'p1', key: 'k', value: 'v0' })).state
    const retried = commit(set, L + 40, cas({ MID: 'c1', key: 'k', expected: 'v0', value: 'v1' }))
    expect(repliesTo(retried.sent, 'c1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'c1' }])
    expect(read(retried.state.kv, 'k')).toBe('v1')
  })

  it('a follower redirects deletes and compare-and-sets like puts', () => {
    const follower = deliver(replica(ME, { settings: standaloneSettings }), 1000, append({ src: A, dst: ME, term: 2 })).state
    const { sent } = deliver(follower, 1010, del({ MID: 'd1', key: 'k' }), cas({ MID: 'c1', key: 'k', expected: null, value: 'v' }))
    expect([...repliesTo(sent, 'd1'), ...repliesTo(sent, 'c1')]).toEqual([
      { src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'd1' },
      { src: ME, dst: CLIENT, leader: A, type: 'redirect', MID: 'c1' },
    ])
  })
})

describe("the real cluster's new entries", () => {
  const sentTo = (settings: Settings): string[] => {
    const { sent } = deliver(settledLeader(settings), L + 100, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }))
    return sent.flatMap((m) => (m.type === 'append' && m.entries.length > 0 ? [m.dst] : [])).sort()
  }

  // §5.3: the leader "issues AppendEntries RPCs in parallel to each of the other servers to
  // replicate the entry"; the course's replicas spend fewer datagrams (fanout.ts).
  it('go to every follower at once; the course sends them to as few as a likely first-round commit needs', () => {
    expect(sentTo(standaloneSettings)).toEqual([...FOLLOWERS].sort())
    expect(sentTo(defaultSettings)).toHaveLength(2)
  })
})

describe("the real cluster's retransmissions", () => {
  // Over TCP nothing is lost short of a dropped connection: an answer 40 ms late is late, not lost,
  // and the next AppendEntries carries only what is new; the course's replicas (a lossy network)
  // take it for lost and start again from the follower's matchIndex.
  it('an AppendEntries unanswered for 40 ms is not sent again with the next new entry', () => {
    const nextAppendTo = (settings: Settings) => {
      const first = deliver(settledLeader(settings), L + 100, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' })).state
      const { sent } = deliver(first, L + 140, put({ dst: ME, MID: 'p2', key: 'k', value: 'v2' }))
      return sent.flatMap((m) => (m.type === 'append' && m.dst === A ? [m.entries.map((e) => (e.command.op === 'put' ? e.command.MID : e.command.op))] : []))
    }
    expect(nextAppendTo(standaloneSettings)).toEqual([['p2']])
    expect(nextAppendTo({ ...standaloneSettings, timing: defaultSettings.timing })).toEqual([['p1', 'p2']])
  })
})
