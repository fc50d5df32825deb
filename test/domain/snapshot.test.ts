/**
 * §7, log compaction, and Figure 13, InstallSnapshot: each test quotes the rule, sets up a state
 * through `step`, steps it, and checks the effects and the new state.
 */
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import type { Effect } from '../../src/domain/effect'
import { applyCommand, decodeSnapshot, emptyKv, encodeSnapshot, valuesOf, type KvStore } from '../../src/domain/kv'
import { afterWrites } from '../../src/domain/durability'
import { lastIndex, termAt } from '../../src/domain/log'
import { recordSend } from '../../src/domain/progress'
import { defaultSettings, withSettings, type Settings } from '../../src/domain/config'
import { emptyPersistent, initialState, persistentState, type ReplicaState } from '../../src/domain/state'
import type { InstallSnapshot, InstallSnapshotReply, Message } from '../../src/domain/wire'
import {
  R,
  acks,
  append,
  deliver,
  fire,
  leaderOf,
  logOf,
  noop,
  ofType,
  put,
  putEntry,
  replica,
  start,
  terms,
  ELECTED_AT as L,
} from './helpers'

const [ME, A, B, C] = R

/** Compaction every 2 applied entries; snapshots travel in pieces of 20 characters. */
const small: Settings = withSettings(defaultSettings, { limits: { snapshotEvery: 2, snapshotChunkChars: 20, snapshotPiecesInFlight: 2 } })

type Persist = Extract<Effect, { kind: 'persist' }>
const persists = (effects: readonly Effect[]): Persist[] => effects.filter((e): e is Persist => e.kind === 'persist')

/** The leader of term 1 (with `small` settings), after A and B acknowledged its no-op. */
const settledLeader = (): ReplicaState => {
  const elected = leaderOf(1, { settings: small }).state
  return deliver(elected, L + 1, ...acks(elected, [A, B], 1, L)).state
}

/** The leader after `n` more puts, each acknowledged by A and B at once. */
const afterPuts = (leader: ReplicaState, n: number, from = 1): { state: ReplicaState; effects: Effect[] } => {
  let state = leader
  const effects: Effect[] = []
  for (let i = from; i < from + n; i++) {
    const now = L + 10 * i
    const appended = deliver(state, now, put({ dst: ME, MID: `m${i}`, key: `k${i % 2}`, value: `v${i}` }))
    const acked = deliver(appended.state, now + 1, ...acks(appended.state, [A, B], lastIndex(appended.state.persistent.log), now))
    state = acked.state
    effects.push(...appended.effects, ...acked.effects)
  }
  return { state, effects }
}

/** Delivers `m` to `to` and returns the state and what it sent. */
const hand = (to: ReplicaState, now: number, m: Message) => {
  const r = deliver(to, now, m)
  return { state: r.state, sent: r.sent, effects: r.effects }
}

describe('§7 log compaction: "each server takes snapshots independently, covering just the committed entries in its log"', () => {
  it('compacts to the point it marked once `snapshotEvery` more entries are applied, keeping the entries after it', () => {
    const leader = settledLeader()
    // Applied: 1 (no-op). After two puts, 3 are applied and index 2 ... marked; after two more, the
    // log is compacted to the point marked when 2 were applied past the start.
    const two = afterPuts(leader, 2)
    expect(two.state.lastApplied).toBe(3)
    expect(two.state.persistent.log.snapshotIndex).toBe(0)
    expect(persists(two.effects).every((p) => p.snapshot === undefined)).toBe(true)

    const four = afterPuts(two.state, 2, 3)
    expect(four.state.lastApplied).toBe(5)
    const log = four.state.persistent.log
    expect(log.snapshotIndex).toBe(2)
    expect(log.snapshotTerm).toBe(1)
    expect(terms(log)).toEqual([1, 1, 1])
    // The snapshot is the state machine after index 2: the no-op and the first put.
    expect(valuesOf(four.state.persistent.snapshot)).toEqual({ k1: 'v1' })
    // The store itself still holds everything applied.
    expect(valuesOf(four.state.kv)).toEqual({ k1: 'v3', k0: 'v4' })
    const written = persists(four.effects).filter((p) => p.snapshot !== undefined)
    expect(written).toHaveLength(1)
    expect(written[0]!.snapshot).toMatchObject({ index: 2, term: 1 })
    expect(valuesOf(written[0]!.snapshot!.state)).toEqual({ k1: 'v1' })
  })

  it('what is stored, write after write, is the persistent state: the snapshot, and the log after it', () => {
    const leader = leaderOf(1, { settings: small })
    const settled = deliver(leader.state, L + 1, ...acks(leader.state, [A, B], 1, L))
    const more = afterPuts(settled.state, 7)
    let stored = emptyPersistent
    for (const p of persists([...leader.effects, ...settled.effects, ...more.effects])) {
      stored = afterWrites(stored, p.hardState, p.log, p.snapshot)
    }
    const now = more.state.persistent
    expect(now.log.snapshotIndex).toBe(6)
    expect(stored.log).toEqual(now.log)
    expect(stored.snapshot).toBe(now.snapshot)
    expect(stored.currentTerm).toBe(now.currentTerm)
  })

  it('never compacts an entry that is not applied', () => {
    let state = settledLeader()
    for (let i = 1; i <= 12; i++) {
      state = afterPuts(state, 1, i).state
      // An unacknowledged put stays in the log, after the snapshot.
      const pending = deliver(state, L + 10 * i + 5, put({ dst: ME, MID: `x${i}`, key: 'x', value: `${i}` })).state
      expect(pending.persistent.log.snapshotIndex).toBeLessThanOrEqual(pending.lastApplied)
      expect(lastIndex(pending.persistent.log)).toBe(pending.lastApplied + 1)
    }
  })
})

describe('Figure 13, InstallSnapshot: "Invoked by leader to send chunks of a snapshot to a follower"', () => {
  /** A leader whose log starts after index 2, and C, which has acknowledged nothing. */
  const compacted = (): ReplicaState => afterPuts(settledLeader(), 4).state

  it('§7: "the leader must occasionally send snapshots to followers that lag behind": a lagging follower gets the first window of pieces', () => {
    const leader = compacted()
    const tick = fire(leader, L + 1000, 'heartbeat')
    const pieces = ofType(tick.sent, 'snapshot').filter((m) => m.dst === C)
    const data = encodeSnapshot(leader.persistent.snapshot)
    expect(data.length).toBeGreaterThan(small.limits.snapshotPiecesInFlight * 20)
    expect(pieces.map((m) => m.offset)).toEqual([0, 20])
    expect(pieces[0]).toMatchObject({ term: 1, lastIncludedIndex: 2, lastIncludedTerm: 1, offset: 0, data: data.slice(0, 20), done: false })
    expect(pieces[1]).toMatchObject({ offset: 20, data: data.slice(20, 40), done: false })
    // A and B are up to date: they get no snapshot.
    expect(ofType(tick.sent, 'snapshot').map((m) => m.dst)).not.toContain(A)
  })

  it('a window of pieces is on its way, each answer moves it on by one; the follower installs the last and then gets the entries after it', () => {
    let leader = compacted()
    let follower = start(replica(C, { settings: small }), 0).state
    let now = L + 1000
    let inFlight: Message[] = ofType(fire(leader, now, 'heartbeat').sent, 'snapshot').filter((m) => m.dst === C)
    leader = fire(leader, now, 'heartbeat').state
    let installedReply: InstallSnapshotReply | undefined
    let pieces = 0
    while (inFlight.length > 0 && installedReply === undefined) {
      expect(inFlight.length).toBeLessThanOrEqual(small.limits.snapshotPiecesInFlight)
      now += 1
      const [next, ...rest] = inFlight
      const atFollower = hand(follower, now, next!)
      follower = atFollower.state
      pieces++
      const reply = ofType(atFollower.sent, 'snapshotReply')[0]!
      if (reply.installed) {
        installedReply = reply
        // Figure 2 and 13: the snapshot and the log are stored before the reply leaves.
        const persistAt = atFollower.effects.findIndex((e) => e.kind === 'persist')
        const replyAt = atFollower.effects.findIndex((e) => e.kind === 'send')
        expect(persistAt).toBeGreaterThanOrEqual(0)
        expect(persistAt).toBeLessThan(replyAt)
        expect(persists(atFollower.effects)[0]!.snapshot).toMatchObject({ index: 2, term: 1 })
      }
      now += 1
      const atLeader = hand(leader, now, reply)
      leader = atLeader.state
      const sent = atLeader.sent.filter((m) => m.dst === C)
      // Taken in order, no piece is sent twice: at most one new piece per answer.
      if (!reply.installed) expect(ofType(sent as Message[], 'snapshot').length).toBeLessThanOrEqual(1)
      inFlight = reply.installed ? sent : [...rest, ...sent]
    }
    expect(pieces).toBe(Math.ceil(encodeSnapshot(leader.persistent.snapshot).length / 20))
    // 8. "Reset state machine using snapshot contents": the follower's store is the snapshot.
    expect(valuesOf(follower.kv)).toEqual({ k1: 'v1' })
    expect(follower.lastApplied).toBe(2)
    expect(follower.commitIndex).toBe(2)
    expect(follower.persistent.log).toMatchObject({ snapshotIndex: 2, snapshotTerm: 1, entries: [] })
    // The leader counts the snapshot as matched and sends what follows at once.
    expect(leader.progress[C]).toMatchObject({ matchIndex: 2, snapshotOffset: 0, snapshotSentAt: Number.NEGATIVE_INFINITY })
    const appends = ofType(inFlight, 'append')
    expect(appends).toHaveLength(1)
    expect(appends[0]).toMatchObject({ prevLogIndex: 2, prevLogTerm: 1 })
    const caughtUp = hand(follower, now + 1, appends[0]!)
    expect(caughtUp.state.persistent.log.entries).toEqual(leader.persistent.log.entries)
    expect(valuesOf(caughtUp.state.kv)).toEqual({ k1: 'v3', k0: 'v4' })
  })

  it('an AppendEntries sent ends a transfer: what is left of it cannot make a later transfer take a stale answer', () => {
    const leader = fire(compacted(), L + 1000, 'heartbeat')
    const sending = leader.state.progress[C]!
    // The transfer is under way: its first piece went out at some time (a resend keeps that time).
    expect(sending.snapshotOffset).toBe(0)
    expect(sending.snapshotSentAt).toBeGreaterThanOrEqual(L)
    const piece = ofType(leader.sent, 'snapshot').find((m) => m.dst === C)!
    const afterAppend = recordSend({ ...sending, snapshotOffset: piece.data.length }, L + 1100, 7, small.limits)
    expect(afterAppend).toMatchObject({ nextIndex: 8, snapshotOffset: 0, snapshotSentAt: Number.NEGATIVE_INFINITY })
  })

  it('a duplicated answer does not start a second stream of pieces', () => {
    const leader = fire(compacted(), L + 1000, 'heartbeat')
    const first = ofType(leader.sent, 'snapshot').find((m) => m.dst === C)!
    const follower = hand(start(replica(C, { settings: small }), 0).state, L + 1001, first)
    const reply = ofType(follower.sent, 'snapshotReply')[0]!
    const once = hand(leader.state, L + 1002, reply)
    // The window moves on by one piece, past the two already sent.
    expect(ofType(once.sent, 'snapshot').map((m) => m.offset)).toEqual([40])
    const twice = hand(once.state, L + 1003, reply)
    expect(twice.sent).toEqual([])
  })

  it('a lost piece: the follower answers the next one with the offset it still expects, and the window is sent again from there, once', () => {
    const leader = fire(compacted(), L + 1000, 'heartbeat')
    const [, p1] = ofType(leader.sent, 'snapshot').filter((m) => m.dst === C)
    // The piece at 0 is lost; the one at 20 arrives.
    const r = hand(start(replica(C, { settings: small }), 0).state, L + 1001, p1!)
    const answer = ofType(r.sent, 'snapshotReply')[0]!
    expect(answer).toMatchObject({ offset: 20, nextOffset: 0, installed: false })
    const rewound = hand(leader.state, L + 1010, answer)
    expect(ofType(rewound.sent, 'snapshot').map((m) => m.offset)).toEqual([0, 20])
    // The same answer again, or any other to a piece sent before the window went again, is stale.
    expect(hand(rewound.state, L + 1011, answer).sent).toEqual([])
  })

  it('a follower that lost what it had received (a restart) is sent the window again from what it now expects', () => {
    const leader = fire(compacted(), L + 1000, 'heartbeat')
    const [p0, p1] = ofType(leader.sent, 'snapshot').filter((m) => m.dst === C)
    let follower = start(replica(C, { settings: small }), 0).state
    let state = leader.state
    for (const [i, piece] of [p0!, p1!].entries()) {
      const r = hand(follower, L + 1001 + i, piece)
      follower = r.state
      state = hand(state, L + 1003 + i, ofType(r.sent, 'snapshotReply')[0]!).state
    }
    expect(state.progress[C]).toMatchObject({ snapshotOffset: 40 })
    // C restarts with nothing of the transfer; the tick sends the window from 40 again.
    const tick = fire(state, L + 2000, 'heartbeat')
    const resent = ofType(tick.sent, 'snapshot').filter((m) => m.dst === C)
    expect(resent.map((m) => m.offset)).toEqual([40])
    const restarted = hand(start(replica(C, { settings: small }), 0).state, L + 2001, resent[0]!)
    const answer = ofType(restarted.sent, 'snapshotReply')[0]!
    expect(answer).toMatchObject({ offset: 40, nextOffset: 0 })
    expect(ofType(hand(tick.state, L + 2002, answer).sent, 'snapshot').map((m) => m.offset)).toEqual([0, 20])
  })

  it('1. "Reply immediately if term < currentTerm"', () => {
    const follower = start(replica(C, { term: 3, settings: small }), 0).state
    const stale: InstallSnapshot = {
      src: A, dst: C, leader: A, type: 'snapshot', term: 2, lastIncludedIndex: 5, lastIncludedTerm: 2,
      offset: 0, data: encodeSnapshot(emptyKv), done: true, sentAt: 7,
    }
    const r = hand(follower, 100, stale)
    expect(r.sent).toEqual([{ src: C, dst: A, leader: 'FFFF', type: 'snapshotReply', term: 3, lastIncludedIndex: 5, offset: 0, nextOffset: 0, installed: false, sentAt: 7 }])
    expect(r.state.persistent).toBe(follower.persistent)
    expect(r.state.lastApplied).toBe(0)
  })

  it('2–3. pieces are taken in order: a piece at another offset is answered with the offset expected, and changes nothing', () => {
    const follower = start(replica(C, { settings: small }), 0).state
    const piece = (offset: number, data: string, done: boolean): InstallSnapshot => ({
      src: A, dst: C, leader: A, type: 'snapshot', term: 1, lastIncludedIndex: 4, lastIncludedTerm: 1, offset, data, done, sentAt: offset,
    })
    const text = encodeSnapshot(applyCommand(emptyKv, { op: 'put', key: 'k', value: 'v', client: R[4], MID: 'm' }))
    const skipped = hand(follower, 10, piece(10, text.slice(10), true))
    expect(ofType(skipped.sent, 'snapshotReply')[0]).toMatchObject({ nextOffset: 0, installed: false })
    expect(skipped.state.lastApplied).toBe(0)
    const first = hand(skipped.state, 11, piece(0, text.slice(0, 10), false))
    expect(ofType(first.sent, 'snapshotReply')[0]).toMatchObject({ nextOffset: 10, installed: false })
    const again = hand(first.state, 12, piece(0, text.slice(0, 10), false))
    expect(ofType(again.sent, 'snapshotReply')[0]).toMatchObject({ nextOffset: 10 })
    const last = hand(again.state, 13, piece(10, text.slice(10), true))
    expect(ofType(last.sent, 'snapshotReply')[0]).toMatchObject({ installed: true })
    expect(valuesOf(last.state.kv)).toEqual({ k: 'v' })
    expect(last.state.lastApplied).toBe(4)
  })

  it('6. "If existing log entry has same index and term as snapshot\'s last included entry, retain log entries following it"', () => {
    const entries = [putEntry(1, 'a', '1', 'm1'), putEntry(1, 'b', '2', 'm2'), putEntry(1, 'c', '3', 'm3')]
    const follower = start(replica(C, { term: 1, log: logOf(...entries), settings: small }), 0).state
    const upTo2 = [entries[0]!, entries[1]!].reduce((kv: KvStore, e) => applyCommand(kv, e.command), emptyKv)
    const r = hand(follower, 100, {
      src: A, dst: C, leader: A, type: 'snapshot', term: 1, lastIncludedIndex: 2, lastIncludedTerm: 1,
      offset: 0, data: encodeSnapshot(upTo2), done: true, sentAt: 1,
    })
    expect(r.state.persistent.log).toEqual({ snapshotIndex: 2, snapshotTerm: 1, entries: [entries[2]] })
    expect(r.state.lastApplied).toBe(2)
    expect(valuesOf(r.state.kv)).toEqual({ a: '1', b: '2' })
  })

  it('7. "Discard the entire log" when it does not hold the snapshot\'s last entry', () => {
    const follower = start(replica(C, { term: 2, log: logOf(noop(1), noop(2), noop(2)), settings: small }), 0).state
    const r = hand(follower, 100, {
      src: A, dst: C, leader: A, type: 'snapshot', term: 3, lastIncludedIndex: 2, lastIncludedTerm: 3,
      offset: 0, data: encodeSnapshot(emptyKv), done: true, sentAt: 1,
    })
    expect(r.state.persistent.log).toEqual({ snapshotIndex: 2, snapshotTerm: 3, entries: [] })
    // The stored log loses the entries after the snapshot too.
    expect(persists(r.effects)[0]).toMatchObject({ snapshot: { index: 2, term: 3 }, log: { from: 3, entries: [] } })
  })

  it('a snapshot that does not decode is not installed, and the transfer starts over', () => {
    const follower = start(replica(C, { settings: small }), 0).state
    const r = hand(follower, 100, {
      src: A, dst: C, leader: A, type: 'snapshot', term: 1, lastIncludedIndex: 9, lastIncludedTerm: 1,
      offset: 0, data: '{"values": 1}', done: true, sentAt: 1,
    })
    expect(ofType(r.sent, 'snapshotReply')[0]).toMatchObject({ nextOffset: 0, installed: false })
    expect(r.state.lastApplied).toBe(0)
    expect(r.state.persistent.log.snapshotIndex).toBe(0)
  })
})

describe('§7 at a follower holding a snapshot', () => {
  const withSnapshot = (): ReplicaState => {
    const kv = applyCommand(emptyKv, { op: 'put', key: 'k', value: 'v', client: R[4], MID: 'm2' })
    const stored = persistentState({ currentTerm: 1, votedFor: O.none, log: { snapshotIndex: 2, snapshotTerm: 1, entries: [] }, snapshot: kv })
    return start(initialState({ id: C, peers: R, seed: 1, settings: small }, stored), 0).state
  }

  it('a restarted replica starts from its snapshot: its store, and everything the snapshot covers applied', () => {
    const s = withSnapshot()
    expect(valuesOf(s.kv)).toEqual({ k: 'v' })
    expect(s.commitIndex).toBe(2)
    expect(s.lastApplied).toBe(2)
    expect(termAt(s.persistent.log, 2)).toBe(1)
    expect(termAt(s.persistent.log, 1)).toBeUndefined()
  })

  it('accepts an AppendEntries whose prevLogIndex the snapshot covers: those entries are committed, so they match', () => {
    const s = withSnapshot()
    const entries = [putEntry(1, 'k', 'v', 'm1'), putEntry(1, 'k', 'v', 'm2'), putEntry(1, 'j', 'w', 'm3')]
    const r = deliver(s, 100, append({ src: A, dst: C, term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 3 }))
    expect(ofType(r.sent, 'appendReply')[0]).toMatchObject({ success: true, matchIndex: 3 })
    expect(r.state.persistent.log).toEqual({ snapshotIndex: 2, snapshotTerm: 1, entries: [entries[2]] })
    expect(valuesOf(r.state.kv)).toEqual({ k: 'v', j: 'w' })
  })

  it('answers a conflict after the snapshot with a hint that does not reach into it', () => {
    const s = deliver(withSnapshot(), 100, append({ src: A, dst: C, term: 1, prevLogIndex: 2, prevLogTerm: 1, entries: [noop(1)] })).state
    const r = deliver(s, 200, append({ src: B, dst: C, term: 2, prevLogIndex: 3, prevLogTerm: 2 }))
    expect(ofType(r.sent, 'appendReply')[0]).toMatchObject({ success: false, conflictIndex: 3, conflictTerm: 1 })
  })
})

describe('snapshots as text', () => {
  it('decode to the store they encode, MIDs included', () => {
    const kv = [
      { op: 'put' as const, key: '__proto__', value: 'a', client: R[4], MID: 'constructor' },
      { op: 'put' as const, key: 'k', value: 'b', client: R[4], MID: 'm2' },
    ].reduce(applyCommand, emptyKv)
    const back = decodeSnapshot(encodeSnapshot(kv))
    expect(E.isRight(back)).toBe(true)
    if (E.isRight(back)) {
      expect(encodeSnapshot(back.right)).toBe(encodeSnapshot(kv))
      expect(valuesOf(back.right)).toEqual(valuesOf(kv))
      // The MIDs came back: a retry of an applied put changes nothing.
      expect(applyCommand(back.right, { op: 'put', key: 'k', value: 'late', client: R[4], MID: 'm2' })).toBe(back.right)
    }
  })

  it('refuse text that is not a snapshot, saying why', () => {
    expect(decodeSnapshot('not json')).toEqual(E.left('snapshot is not JSON'))
    expect(decodeSnapshot('{"values":[["k"]],"recentMids":[],"olderMids":[]}')).toEqual(E.left('snapshot has the wrong shape'))
  })
})
