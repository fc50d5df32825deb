/**
 * Properties checked with fast-check:
 * 1. robustness: no datagram, however malformed or hostile, makes `step` throw, whatever the role;
 * 2. Log Matching (§5.3, Figure 3) at a follower fed AppendEntries from a model of successive leaders,
 *    in random order with duplicates, and no committed entry is ever truncated.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { received, timerFired, type Event } from '../../src/domain/events'
import { applyCommand, emptyKv, encodeSnapshot, midsOf } from '../../src/domain/kv'
import { lastIndex, termAt } from '../../src/domain/log'
import type { ReplicaState } from '../../src/domain/state'
import { frozenStep as step } from '../../src/check/stepper'
import { sentMessages, type Effect } from '../../src/domain/effect'
import { decodeMessage, encodeMessage, type AppendEntries, type Entry, type Message, type NodeId } from '../../src/domain/wire'
import {
  acks,
  append,
  deliver,
  ELECTED_AT as L,
  fire,
  id,
  leaderOf,
  logOf,
  put,
  putEntry,
  R,
  replica,
  start,
} from './helpers'

const [ME, A, B, C, D] = R

// ---- states of each role ------------------------------------------------------------------------

const follower = (): ReplicaState =>
  deliver(
    start(replica(ME)).state,
    1000,
    append({ src: A, dst: ME, term: 2, entries: [putEntry(1, 'k', 'a', 'm1'), putEntry(2, 'k', 'b', 'm2')], leaderCommit: 1 }),
  ).state

const candidate = (): ReplicaState => {
  const pre = fire(start(replica(ME, { term: 2, log: logOf(putEntry(1, 'k', 'a', 'm1')) })).state, 3000, 'election').state
  return deliver(pre, 3000, ...[A, B].map((src) => ({ src, dst: ME, leader: id('FFFF'), type: 'voteReply' as const, term: 3, granted: true, pre: true }))).state
}

const leader = (): ReplicaState => {
  const elected = leaderOf(2, { log: logOf(putEntry(1, 'k', 'a', 'm1')) }).state
  const settled = deliver(elected, L + 10, ...acks(elected, [A, B], 2, L)).state
  return deliver(settled, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }), { src: id('0015'), dst: ME, leader: ME, type: 'get', MID: 'g1', key: 'k' }).state
}

const roles: [string, () => ReplicaState][] = [
  ['follower', follower],
  ['candidate', candidate],
  ['leader', leader],
]

// ---- arbitraries --------------------------------------------------------------------------------

const nodeId = fc.constantFrom(ME, A, B, C, D, id('FFFF'), id('0015'), id('0016'), id('00FF'))
const index = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 31, 2 ** 32 + 1) },
)
const tricky = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'k', 'm1', 'p1', 'g1')
const text = fc.oneof(tricky, fc.string({ maxLength: 20 }))
const command = fc.oneof(
  fc.constant({ op: 'noop' as const }),
  fc.record({ op: fc.constant('put' as const), key: text, value: text, client: nodeId, MID: text }),
)
const entry = fc.record({ term: index, command })
const envelope = { src: nodeId, dst: fc.oneof({ weight: 4, arbitrary: fc.constant(ME) }, { weight: 1, arbitrary: nodeId }), leader: nodeId }
const time = fc.oneof(fc.integer({ min: -1e6, max: 1e7 }), fc.double({ noNaN: true }))

const raftMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ ...envelope, type: fc.constant('vote' as const), term: index, lastLogIndex: index, lastLogTerm: index, pre: fc.boolean() }),
  fc.record({ ...envelope, type: fc.constant('voteReply' as const), term: index, granted: fc.boolean(), pre: fc.boolean() }),
  fc.record({
    ...envelope,
    type: fc.constant('append' as const),
    term: index,
    prevLogIndex: index,
    prevLogTerm: index,
    entries: fc.array(entry, { maxLength: 5 }),
    leaderCommit: index,
    sentAt: time,
  }),
  fc.record({
    ...envelope,
    type: fc.constant('appendReply' as const),
    term: index,
    success: fc.boolean(),
    matchIndex: index,
    conflictIndex: index,
    conflictTerm: index,
    sentAt: time,
  }),
  fc.record({
    ...envelope,
    type: fc.constant('forward' as const),
    puts: fc.array(fc.record({ op: fc.constant('put' as const), key: text, value: text, client: nodeId, MID: text }), { maxLength: 3 }),
  }),
  fc.record({
    ...envelope,
    type: fc.constant('snapshot' as const),
    term: index,
    lastIncludedIndex: index,
    lastIncludedTerm: index,
    offset: index,
    data: fc.oneof(text, fc.constant(encodeSnapshot(emptyKv)), fc.constant(encodeSnapshot(applyCommand(emptyKv, { op: 'put', key: 'k', value: 'v', client: ME, MID: 'm9' })))),
    done: fc.boolean(),
    sentAt: time,
  }),
  fc.record({
    ...envelope,
    type: fc.constant('snapshotReply' as const),
    term: index,
    lastIncludedIndex: index,
    offset: index,
    nextOffset: index,
    installed: fc.boolean(),
    sentAt: time,
  }),
  fc.record({ ...envelope, type: fc.constant('get' as const), MID: text, key: text }),
  fc.record({ ...envelope, type: fc.constant('put' as const), MID: text, key: text, value: text }),
  fc.record({ ...envelope, type: fc.constantFrom('hello' as const) }),
  fc.record({ ...envelope, type: fc.constantFrom('ok' as const, 'redirect' as const, 'fail' as const), MID: text }),
)

/** Objects with the right field names but values of any sort, some fields missing, some extra. */
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), index, nodeId, fc.constant('ffff'), fc.constant('00001'))
const looseObject = fc.record(
  {
    src: fc.oneof(nodeId, anyValue),
    dst: fc.oneof(fc.constant(ME), anyValue),
    leader: fc.oneof(nodeId, anyValue),
    type: fc.oneof(fc.constantFrom('vote', 'voteReply', 'append', 'appendReply', 'forward', 'snapshot', 'snapshotReply', 'get', 'put', 'hello', 'ok'), anyValue),
    term: anyValue,
    pre: fc.oneof(fc.boolean(), anyValue),
    granted: fc.oneof(fc.boolean(), anyValue),
    lastLogIndex: anyValue,
    lastLogTerm: anyValue,
    prevLogIndex: anyValue,
    prevLogTerm: anyValue,
    entries: fc.oneof(fc.array(entry, { maxLength: 3 }), anyValue),
    leaderCommit: anyValue,
    sentAt: anyValue,
    success: fc.oneof(fc.boolean(), anyValue),
    matchIndex: anyValue,
    conflictIndex: anyValue,
    conflictTerm: anyValue,
    puts: anyValue,
    lastIncludedIndex: anyValue,
    lastIncludedTerm: anyValue,
    offset: anyValue,
    data: anyValue,
    done: fc.oneof(fc.boolean(), anyValue),
    nextOffset: anyValue,
    installed: fc.oneof(fc.boolean(), anyValue),
    MID: anyValue,
    key: anyValue,
    value: anyValue,
    extra: anyValue,
  },
  { requiredKeys: [] },
)

/** Datagram texts: random JSON, loose objects, well-typed messages, and plain garbage. */
const datagram: fc.Arbitrary<string> = fc.oneof(
  fc.json({ maxDepth: 3 }),
  looseObject.map((o) => JSON.stringify(o)),
  raftMessage.map((m) => JSON.stringify(m)),
  fc.string({ maxLength: 60 }),
)

/** What the runtime would do: decode, and step on what decodes; plus timers. */
const eventFrom = (now: number, item: { datagram: string } | { timer: 'election' | 'heartbeat' }): Event | undefined => {
  if ('timer' in item) return timerFired(now, item.timer)
  const decoded = decodeMessage(item.datagram)
  return decoded._tag === 'Right' ? received(now, decoded.right) : undefined
}

const events = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: datagram.map((d) => ({ datagram: d })) },
    { weight: 1, arbitrary: fc.constantFrom('election' as const, 'heartbeat' as const).map((timer) => ({ timer })) },
  ),
  { maxLength: 25 },
)

/** Effects outlive `step`: what they carry must be plain data the runtime can encode (no revoked drafts). */
const expectSendable = (effects: readonly Effect[]): void => {
  for (const m of sentMessages(effects)) encodeMessage(m)
}

describe('property: no datagram makes step throw, and what it sends can be encoded', () => {
  for (const [role, make] of roles) {
    const base = make()
    it(`for a ${role}, with decoded random and malformed datagrams`, () => {
      expect(base.role).toBe(role)
      fc.assert(
        fc.property(events, fc.integer({ min: 0, max: 100 }), (items, gap) => {
          let state = base
          let now = 20_000
          for (const item of items) {
            now += gap
            const event = eventFrom(now, item)
            if (event === undefined) continue
            const [next, effects] = step(state, event)
            expectSendable(effects)
            state = next
          }
        }),
        { numRuns: 150 },
      )
    })

    it(`for a ${role}, with well-typed Raft and client messages stepped directly (huge terms and indexes included)`, () => {
      fc.assert(
        fc.property(fc.array(raftMessage, { maxLength: 20 }), (messages) => {
          let state = base
          let now = 20_000
          for (const m of messages) {
            now += 37
            const [next, effects] = step(state, received(now, m))
            expectSendable(effects)
            state = next
          }
          // Whatever arrived, the log holds every index from its snapshot's end to its last, and what
          // is applied is committed.
          expect(termAt(state.persistent.log, lastIndex(state.persistent.log))).toBeDefined()
          expect(state.lastApplied).toBeLessThanOrEqual(state.commitIndex)
          expect(state.persistent.log.snapshotIndex).toBeLessThanOrEqual(state.lastApplied)
        }),
        { numRuns: 150 },
      )
    })
  }
})

// ---- Log Matching under a model of successive leaders -----------------------------------------

/** The model's logs are arrays indexed by Raft index, with a sentinel of term 0 at index 0. */
const SENTINEL: Entry = { term: 0, command: { op: 'noop' } }
const asArray = (state: ReplicaState): Entry[] => [SENTINEL, ...state.persistent.log.entries]

interface ModelLeader {
  readonly id: NodeId
  readonly term: number
  readonly log: readonly Entry[]
  readonly commit: number
}

/** Leaders with increasing terms; each keeps a prefix of its predecessor's log holding everything committed. */
const modelLeaders: fc.Arbitrary<ModelLeader[]> = fc
  .array(
    fc.record({
      termStep: fc.integer({ min: 1, max: 3 }),
      keep: fc.double({ min: 0, max: 1, noNaN: true }),
      own: fc.integer({ min: 0, max: 5 }),
      commit: fc.double({ min: 0, max: 1, noNaN: true }),
      advance: fc.integer({ min: 0, max: 3 }).map((n) => n > 0),
    }),
    { minLength: 2, maxLength: 5 },
  )
  .map((plans) => {
    const leaders: ModelLeader[] = []
    let log: Entry[] = [SENTINEL]
    let term = 0
    let committed = 0
    plans.forEach((plan, i) => {
      term += plan.termStep
      const length = log.length - 1
      const keep = committed + Math.floor(plan.keep * (length - committed + 1)) // committed..length
      const own = Array.from({ length: plan.own }, (_, k) => {
        const index = keep + 1 + k
        return putEntry(term, `k${index % 3}`, `t${term}i${index}`, `t${term}i${index}`)
      })
      log = [...log.slice(0, keep + 1), ...own]
      // A leader commits by counting only entries of its own term (§5.4.2), or knows no more than before.
      if (plan.advance && plan.own > 0) committed = keep + 1 + Math.floor(plan.commit * plan.own)
      leaders.push({ id: R[1 + (i % 4)]!, term, log, commit: Math.min(committed, log.length - 1) })
    })
    return leaders
  })

const appendsOf = (leader: ModelLeader): fc.Arbitrary<AppendEntries> => {
  const last = leader.log.length - 1
  return fc
    .record({ prev: fc.integer({ min: 0, max: last }), count: fc.nat({ max: 4 }), commit: fc.integer({ min: 0, max: leader.commit }) })
    .map(({ prev, count, commit }) =>
      append({
        src: leader.id,
        dst: ME,
        term: leader.term,
        prevLogIndex: prev,
        prevLogTerm: leader.log[prev]!.term,
        entries: leader.log.slice(prev + 1, prev + 1 + count) as Entry[],
        leaderCommit: commit,
      }),
    )
}

const scenario = modelLeaders.chain((leaders) =>
  fc
    .tuple(...leaders.map((l) => fc.array(appendsOf(l), { minLength: 2, maxLength: 8, size: 'medium' })))
    .chain((perLeader) => {
      const all = perLeader.flatMap((messages, leaderIndex) => messages.map((m) => ({ m, leaderIndex })))
      // Mostly in the order the leaders came, but reordered across neighbouring leaders, with duplicates.
      return fc
        .array(fc.record({ pick: fc.nat({ max: all.length - 1 }), jitter: fc.double({ min: 0, max: 1.5, noNaN: true }) }), {
          minLength: 5,
          maxLength: 40,
          size: 'medium',
        })
        .map((picks) => ({
          leaders,
          deliveries: picks
            .map(({ pick, jitter }) => ({ m: all[pick]!.m, key: all[pick]!.leaderIndex + jitter }))
            .sort((a, b) => a.key - b.key)
            .map(({ m }) => m),
        }))
    }),
)

const sameEntries = (a: readonly Entry[], b: readonly Entry[]): boolean => JSON.stringify(a) === JSON.stringify(b)

describe('property: Log Matching at a follower (§5.3, Figure 3)', () => {
  it('random AppendEntries of successive leaders, reordered and duplicated, keep Log Matching and never truncate committed entries', () => {
    fc.assert(
      fc.property(scenario, ({ leaders, deliveries }) => {
        let state = start(replica(ME)).state
        let now = 1000
        for (const m of deliveries) {
          const before = state
          now += 10
          state = step(state, received(now, m))[0]
          const log = asArray(state)
          // Committed entries are never truncated or changed.
          expect(log.length).toBeGreaterThan(before.commitIndex)
          expect(sameEntries(log.slice(0, before.commitIndex + 1), asArray(before).slice(0, before.commitIndex + 1))).toBe(true)
          expect(state.commitIndex).toBeGreaterThanOrEqual(before.commitIndex)
          // Log Matching: an entry with the same index and term as a leader's means identical logs up to it.
          for (const leader of leaders) {
            const upTo = Math.min(log.length, leader.log.length) - 1
            for (let i = upTo; i >= 1; i--) {
              if (log[i]!.term === leader.log[i]!.term) {
                expect(sameEntries(log.slice(0, i + 1), leader.log.slice(0, i + 1))).toBe(true)
                break
              }
            }
          }
          // What the follower committed is what the last leader holds, and its store is the replay of it.
          const latest = leaders[leaders.length - 1]!
          expect(state.commitIndex).toBeLessThanOrEqual(latest.log.length - 1)
          expect(sameEntries(log.slice(0, state.commitIndex + 1), latest.log.slice(0, state.commitIndex + 1))).toBe(true)
          expect(state.lastApplied).toBe(state.commitIndex)
          const replay = log.slice(1, state.commitIndex + 1).reduce((kv, e) => applyCommand(kv, e.command), emptyKv)
          expect(state.kv.values.toJSON()).toEqual(replay.values.toJSON())
          expect(midsOf(state.kv)).toEqual(midsOf(replay))
        }
      }),
      { numRuns: 300 },
    )
  })
})
