/**
 * Figure 2, "Persistent state on all servers (Updated on stable storage before responding to
 * RPCs)": currentTerm, votedFor, log[]. `step` says what to store as a persist effect, first among
 * its effects, so that a runtime that carries them out in order never sends a reply, a vote or a
 * request that depends on state not yet stored.
 */
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import type { Effect } from '../../src/domain/effect'
import { afterWrites, logWrite, persistEffect } from '../../src/domain/durability'
import { compactLog } from '../../src/domain/log'
import { emptyPersistent, persistentState, withPersistent } from '../../src/domain/state'
import { MemoryStorage } from '../../src/runtime/storage'
import {
  ELECTED_AT,
  R,
  append,
  deliver,
  fire,
  get,
  leaderOf,
  logOf,
  noop,
  put,
  putEntry,
  replica,
  start,
  vote,
  type Run,
} from './helpers'

const [ME, A, B] = R
/** When leaderOf's replica took office. */
const L = ELECTED_AT

type Persist = Extract<Effect, { kind: 'persist' }>
const persists = (effects: readonly Effect[]): Persist[] => effects.filter((e): e is Persist => e.kind === 'persist')
/** Positions of the persist effect and of the first send, in a step's effects. */
const order = (run: Run) => ({
  persist: run.effects.findIndex((e) => e.kind === 'persist'),
  firstSend: run.effects.findIndex((e) => e.kind === 'send'),
})

describe('Figure 2: persistent state is stored before responding to RPCs', () => {
  // §5.2: "Each server will vote for at most one candidate in a given term"; a vote forgotten in a
  // crash would let the server vote twice.
  it('a vote is granted only after the vote (and the term it adopts) is stored', () => {
    const follower = start(replica(ME)).state
    const granted = deliver(follower, 5_000, vote({ src: A, dst: ME, term: 1 }))
    expect(granted.sent).toMatchObject([{ type: 'voteReply', granted: true, term: 1 }])
    const { persist, firstSend } = order(granted)
    expect(persist).toBe(0)
    expect(firstSend).toBeGreaterThan(persist)
    expect(persists(granted.effects)).toEqual([{ kind: 'persist', hardState: { currentTerm: 1, votedFor: O.some(A) }, log: undefined }])
  })

  it('an AppendEntries reply is sent only after the entries it acknowledges are stored', () => {
    const follower = start(replica(ME)).state
    const entries = [noop(1), putEntry(1, 'k', 'v', 'm1')]
    const appended = deliver(follower, 100, append({ src: A, dst: ME, term: 1, entries }))
    expect(appended.sent).toMatchObject([{ type: 'appendReply', success: true, matchIndex: 2 }])
    const { persist, firstSend } = order(appended)
    expect(persist).toBe(0)
    expect(firstSend).toBeGreaterThan(persist)
    // The term the follower adopted from the leader, and the two entries after the sentinel.
    expect(persists(appended.effects)).toEqual([
      { kind: 'persist', hardState: { currentTerm: 1, votedFor: O.none }, log: { from: 1, entries } },
    ])
  })

  // Figure 2, AppendEntries step 3: "If an existing entry conflicts with a new one ..., delete the
  // existing entry and all that follow it": the store must lose them too.
  it('a conflicting suffix is replaced in the store from the first conflicting index', () => {
    const follower = start(replica(ME, { term: 2, log: logOf(noop(1), noop(1), noop(1)) })).state
    const fixed = deliver(follower, 100, append({ src: A, dst: ME, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [noop(2)] }))
    expect(persists(fixed.effects)).toEqual([{ kind: 'persist', hardState: undefined, log: { from: 2, entries: [noop(2)] } }])
  })

  it("a leader stores a client's put before the AppendEntries that carry it leave", () => {
    const leader = leaderOf(1).state
    const withPut = deliver(leader, L + 100, put({ dst: ME, MID: 'm1', key: 'k', value: 'v' }))
    const { persist, firstSend } = order(withPut)
    expect(persist).toBe(0)
    expect(firstSend).toBeGreaterThan(persist)
    expect(persists(withPut.effects)[0]!.log).toEqual({ from: 2, entries: [putEntry(1, 'k', 'v', 'm1')] })
  })

  // §5.2: "a follower increments its current term and transitions to candidate state. It then votes for itself".
  it('a candidate stores its new term and its vote for itself before asking for votes', () => {
    const preCandidate = fire(start(replica(ME)).state, 3_000, 'election').state
    const campaign = deliver(preCandidate, 3_001, ...[A, B].map((peer) => ({ src: peer, dst: ME, leader: ME, type: 'voteReply' as const, term: 1, granted: true, pre: true })))
    const requests = campaign.sent.filter((m) => m.type === 'vote' && !m.pre)
    expect(requests.length).toBeGreaterThan(0)
    const { persist } = order(campaign)
    const firstRequest = campaign.effects.findIndex((e) => e.kind === 'send' && e.message.type === 'vote' && !e.message.pre)
    expect(persist).toBeGreaterThanOrEqual(0)
    expect(firstRequest).toBeGreaterThan(persist)
    expect(persists(campaign.effects)[0]!.hardState).toEqual({ currentTerm: 1, votedFor: O.some(ME) })
  })

  it('a step that changes no persistent state stores nothing (a get served under the lease, a heartbeat)', () => {
    const leader = leaderOf(1).state
    expect(persists(deliver(leader, L + 10, get({ dst: ME, MID: 'g', key: 'k' })).effects)).toEqual([])
    const follower = deliver(start(replica(ME)).state, 100, append({ src: A, dst: ME, term: 1 })).state
    expect(persists(deliver(follower, 200, append({ src: A, dst: ME, term: 1 })).effects)).toEqual([])
  })

  it('what is stored, step after step, is the replica\'s persistent state (through elections, puts and a conflict)', () => {
    const storage = new MemoryStorage()
    let stored = emptyPersistent
    const keep = (run: Run): Run => {
      for (const p of persists(run.effects)) {
        storage.persist(p.hardState, p.log, p.snapshot)
        stored = afterWrites(stored, p.hardState, p.log, p.snapshot)
      }
      return run
    }
    const follower = keep(start(replica(ME))).state
    const a = keep(deliver(follower, 100, append({ src: A, dst: ME, term: 1, entries: [noop(1), noop(1), noop(1)] }))).state
    const b = keep(deliver(a, 5_000, vote({ src: B, dst: ME, term: 2, lastLogIndex: 3, lastLogTerm: 1 }))).state
    const c = keep(deliver(b, 5_100, append({ src: B, dst: ME, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [noop(2)] }))).state
    for (const recovered of [storage.recover(), stored]) {
      expect(recovered.currentTerm).toBe(c.persistent.currentTerm)
      expect(recovered.votedFor).toEqual(c.persistent.votedFor)
      expect(recovered.log.entries).toEqual(c.persistent.log.entries)
    }
  })
})

describe('logWrite', () => {
  const log = logOf(noop(1), noop(1))
  it('is an append when the old last entry is still in place, a replacement from the first difference otherwise', () => {
    const [first, second] = log.entries
    const longer = logOf(first!, second!, noop(2))
    expect(logWrite(log, longer)).toEqual({ from: 3, entries: [noop(2)] })
    expect(logWrite(log, log)).toBeUndefined()
    expect(logWrite(log, logOf(first!, noop(3)))).toEqual({ from: 2, entries: [noop(3)] })
    expect(logWrite(log, logOf(first!))).toEqual({ from: 2, entries: [] })
  })
})

describe('persistEffect and §7 snapshots', () => {
  it('stores a snapshot that covers only no-ops, though its store is the same as the one before', () => {
    const before = persistentState({ currentTerm: 1, votedFor: O.none, log: logOf(noop(1), noop(1)) })
    const after = withPersistent(before, { log: compactLog(before.log, 1) })
    expect(after.snapshot).toBe(before.snapshot)
    expect(persistEffect(before, after)).toMatchObject({ kind: 'persist', snapshot: { index: 1, term: 1 }, log: undefined })
  })
})
