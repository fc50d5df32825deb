/**
 * Cluster membership changes (thesis ch. 4) and leadership transfer (thesis §3.10), in the style of
 * etcd's raft_paper_test.go: each test quotes the rule it checks, sets up a state through `step`,
 * steps it, and checks the outgoing messages and the new state.
 */
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import type { Effect } from '../../src/domain/effect'
import { applyCommand, emptyKv, encodeSnapshot } from '../../src/domain/kv'
import { lastIndex } from '../../src/domain/log'
import {
  applyChange,
  changeBlockedBecause,
  configCommand,
  configuration,
  configurationAt,
  type Configuration,
} from '../../src/domain/membership'
import { operatorRequest } from '../../src/check/virtual-clients'
import { isMajorityOf, quorumValueOf } from '../../src/domain/quorum'
import { defaultSettings, withSettings } from '../../src/domain/config'
import { initialState, type ReplicaState } from '../../src/domain/state'
import { UNKNOWN_LEADER, type AdminAction, type AdminRequest, type Entry, type NodeId } from '../../src/domain/wire'
import {
  CLIENT,
  ELECTED_AT as L,
  R,
  acks,
  append,
  appendReply,
  deliver,
  entry,
  fire,
  get,
  leaderOf,
  logOf,
  noop,
  ofType,
  put,
  putCmd,
  putEntry,
  replica,
  start,
  vote,
  voteReply,
} from './helpers'

const [ME, A, B, C, D] = R
const THREE = [ME, A, B]
const OPERATOR = CLIENT

/** An operator's request, from the client the tests use. */
const admin = (dst: NodeId, MID: string, action: AdminAction, member?: NodeId): AdminRequest => ({
  ...operatorRequest(dst, MID, action, member),
  src: OPERATOR,
})

const configEntry = (term: number, c: Configuration): Entry => entry(term, configCommand(c))

/** The leader of term 1 of {ME, A, B}, its no-op committed (A and B acknowledged it). */
const settledLeader = (): ReplicaState => {
  const elected = leaderOf(1, { peers: THREE }).state
  return deliver(elected, L + 1, ...acks(elected, [A, B], 1, L)).state
}

/** `leader` after an operator's change, appended at `now`. */
const change = (leader: ReplicaState, now: number, action: AdminAction, member: NodeId, MID = `c-${action}-${member}`) =>
  deliver(leader, now, admin(leader.id, MID, action, member))

type Persist = Extract<Effect, { kind: 'persist' }>
const persists = (effects: readonly Effect[]): Persist[] => effects.filter((e): e is Persist => e.kind === 'persist')

describe('thesis §4.1: configurations and their majorities', () => {
  // "When adding or removing just a single server, ... any majority of the old cluster overlaps with
  // any majority of the new cluster."
  it('every majority of the old configuration meets every majority of the new one, for every single-server change', () => {
    const subsets = <T>(xs: readonly T[]): T[][] => xs.reduce<T[][]>((all, x) => [...all, ...all.map((s) => [...s, x])], [[]])
    const old = configuration([ME, A, B, C], [D])
    for (const [action, member] of [['promote', D], ['remove', C], ['remove', ME], ['add', 'FFF0' as NodeId]] as const) {
      const result = applyChange(old, action, member)
      if (!('ok' in result) || result.ok === undefined) throw new Error(`${action} ${member} is a change`)
      const next = result.ok
      const everyone = [...new Set([...old.voters, ...old.learners, ...next.voters, ...next.learners])]
      for (const a of subsets(everyone).filter((s) => isMajorityOf(old.voters, s))) {
        for (const b of subsets(everyone).filter((s) => isMajorityOf(next.voters, s))) {
          expect(a.some((id) => b.includes(id) && old.voters.includes(id) && next.voters.includes(id))).toBe(true)
        }
      }
    }
  })

  // §4.2.1: new servers join "as non-voting members"; one server at a time.
  it('a new member joins as a learner; only a learner is promoted; the last voter is never removed', () => {
    const c = configuration([ME, A, B])
    expect(applyChange(c, 'add', D)).toEqual({ ok: configuration([ME, A, B], [D]) })
    expect(applyChange(c, 'promote', D)).toEqual({ refused: `${D} is not a learner of the cluster (add it first)` })
    expect(applyChange(configuration([ME, A, B], [D]), 'promote', D)).toEqual({ ok: configuration([ME, A, B, D]) })
    expect(applyChange(c, 'remove', A)).toEqual({ ok: configuration([ME, B]) })
    expect(applyChange(configuration([ME]), 'remove', ME)).toEqual({ refused: `${ME} is the cluster's last voter` })
    // What holds already is no change (a retry of one that went through).
    expect(applyChange(c, 'add', A)).toEqual({ ok: undefined })
    expect(applyChange(c, 'remove', D)).toEqual({ ok: undefined })
  })

  it('a majority is of the voters only: a learner never counts, and a leader outside the configuration does not count itself', () => {
    const c = configuration([A, B, C], [D])
    expect(isMajorityOf(c.voters, [ME, D, A])).toBe(false)
    expect(isMajorityOf(c.voters, [A, B])).toBe(true)
    const match: Record<string, number> = { [ME]: 9, [A]: 7, [B]: 3, [C]: 1, [D]: 9 }
    expect(quorumValueOf(c.voters, (id) => match[id]!)).toBe(3)
  })

  // "a server always uses the latest configuration in its log, regardless of whether the entry is committed"
  it('the configuration in use is the latest in the log, else the snapshot\'s, else the first', () => {
    const first = configuration([ME, A, B])
    const added = configuration([ME, A, B], [D])
    expect(configurationAt(logOf(noop(1)), first)).toEqual(first)
    expect(configurationAt(logOf(noop(1), configEntry(1, added), noop(1)), first)).toEqual(added)
    expect(configurationAt(logOf(noop(1), configEntry(1, added), noop(1)), first, 1)).toEqual(first)
  })
})

describe('thesis §4.1: a configuration is taken into use when appended, not when committed', () => {
  // "The new configuration takes effect on each server as soon as it is added to that server's log"
  it('a follower uses a configuration entry the moment it appends it, uncommitted', () => {
    const follower = start(replica(A, { peers: THREE })).state
    const added = configuration(THREE, [D])
    const { state } = deliver(follower, 100, append({ src: ME, dst: A, term: 1, entries: [noop(1), configEntry(1, added)], leaderCommit: 0 }))
    expect(state.commitIndex).toBe(0)
    expect(state.configuration).toEqual(added)
    expect([...state.peers].sort()).toEqual([ME, B, D].sort())
  })

  // The order of the peers breaks ties when a leader picks which followers carry a new entry first
  // (fanout.ts): a configuration change keeps the order the replica was given, new members after.
  it('the peers keep the order the replica was given them, new members after them', () => {
    const follower = start(replica(A, { peers: [B, ME, A] })).state
    expect(follower.peers).toEqual([B, ME])
    const added = configuration(THREE, [D])
    const { state } = deliver(follower, 100, append({ src: ME, dst: A, term: 1, entries: [noop(1), configEntry(1, added)], leaderCommit: 0 }))
    expect(state.peers).toEqual([B, ME, D])
  })

  // "a log entry for a configuration change can be removed (if leadership changes); in this case, a
  // server must be prepared to fall back to the previous configuration in its log."
  it('a follower falls back to the previous configuration when a new leader truncates the entry', () => {
    const follower = start(replica(A, { peers: THREE })).state
    const removeB = configuration([ME, A])
    const appended = deliver(follower, 100, append({ src: ME, dst: A, term: 1, entries: [noop(1), configEntry(1, removeB)] })).state
    expect(appended.configuration).toEqual(removeB)
    const truncated = deliver(appended, 200, append({ src: B, dst: A, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [noop(2)] })).state
    expect(truncated.configuration).toEqual(configuration(THREE))
    expect([...truncated.peers].sort()).toEqual([ME, B])
  })

  it('the leader uses its new configuration at once: a new learner is sent the log in the same step', () => {
    const leader = settledLeader()
    const { state, sent } = change(leader, L + 10, 'add', D)
    expect(state.configuration).toEqual(configuration(THREE, [D]))
    expect(state.persistent.log.entries.at(-1)).toEqual(configEntry(1, configuration(THREE, [D])))
    expect(state.commitIndex).toBe(1)
    expect(ofType(sent, 'append').map((m) => m.dst)).toContain(D)
    expect(state.progress[D]).toBeDefined()
  })

  // The operator is answered once the change commits.
  it('the operator is answered with the new configuration when the entry commits under it', () => {
    const leader = settledLeader()
    const added = change(leader, L + 10, 'add', D).state
    expect(ofType(deliver(added, L + 11).sent, 'adminReply')).toHaveLength(0)
    const { sent, state } = deliver(added, L + 12, ...acks(added, [A], 2, L + 10))
    expect(state.commitIndex).toBe(2)
    expect(ofType(sent, 'adminReply')).toEqual([
      { src: ME, dst: OPERATOR, leader: ME, type: 'adminReply', MID: `c-add-${D}`, voters: THREE, learners: [D], addresses: {} },
    ])
  })
})

describe('thesis §4.1: "cluster configurations are stored and communicated using special entries in the replicated log"', () => {
  // The real cluster's addresses go with the configuration, so that the log is its one description.
  it('a new member\'s addresses, with the others\' the operator gave, travel in its configuration entry; a removal drops them', () => {
    const book = { [ME]: { peer: 'h0:1', client: 'h0:2' }, [A]: { peer: 'h1:1', client: 'h1:2' }, [D]: { peer: 'h4:1', client: 'h4:2' } }
    const leader = settledLeader()
    const { state, sent } = deliver(leader, L + 10, { ...admin(ME, 'add-d', 'add', D), addresses: book })
    const entries = ofType(sent, 'append').flatMap((m) => m.entries)
    expect(entries.map((e) => e.command)).toContainEqual(configCommand(configuration(THREE, [D], book)))
    expect(state.configuration.addresses).toEqual(book)
    const appended = configuration(THREE, [D], book)
    const removed = applyChange(appended, 'remove', A)
    expect(removed).toEqual({ ok: configuration([ME, B], [D], { [ME]: book[ME]!, [D]: book[D]! }) })
    // The configuration's own addresses stand: a later book adds only those it lacks.
    const later = applyChange(appended, 'promote', D, { [D]: { peer: 'elsewhere:1', client: 'elsewhere:2' }, [B]: { peer: 'h2:1', client: 'h2:2' } })
    expect(later).toEqual({ ok: configuration([ME, A, B, D], [], { ...book, [B]: { peer: 'h2:1', client: 'h2:2' } }) })
  })
})

describe('thesis §4.1 with the fix for single-server changes: one change at a time, after an entry of the term', () => {
  // The fix (Ongaro, raft-dev, 2015): "a leader may not append a new configuration entry until it has
  // committed an entry from its current term".
  it('a new leader refuses a change until its own no-op has committed', () => {
    const elected = leaderOf(1, { peers: THREE }).state
    const { state, sent } = change(elected, L + 1, 'add', D)
    expect(state.configuration).toEqual(configuration(THREE))
    expect(lastIndex(state.persistent.log)).toBe(1)
    expect(ofType(sent, 'refused')).toEqual([
      { src: ME, dst: OPERATOR, leader: ME, type: 'refused', MID: `c-add-${D}`, reason: 'not now: no entry of term 1 has committed yet; try again', retry: true },
    ])
    expect(changeBlockedBecause(elected.persistent.log, 0, 1)).toBe('no entry of term 1 has committed yet')
  })

  // §4.1: the leader does not begin a new change "until the previous change's entry has committed".
  it('a leader refuses a second change while the first is uncommitted, and accepts it once the first commits', () => {
    const added = change(settledLeader(), L + 10, 'add', D).state
    const second = change(added, L + 11, 'add', C)
    expect(ofType(second.sent, 'refused')[0]!.reason).toBe('not now: the configuration change at 2 has not committed yet; try again')
    expect(second.state.configuration).toEqual(configuration(THREE, [D]))
    const committed = deliver(added, L + 12, ...acks(added, [A], 2, L + 10)).state
    const third = change(committed, L + 13, 'add', C)
    expect(ofType(third.sent, 'refused')).toHaveLength(0)
    expect(third.state.configuration).toEqual(configuration(THREE, [C, D]))
  })

  it('a retry of a change that went through is answered at once, and a change that is not one is refused with its reason', () => {
    const added = change(settledLeader(), L + 10, 'add', D).state
    const committed = deliver(added, L + 12, ...acks(added, [A], 2, L + 10)).state
    const retry = change(committed, L + 13, 'add', D, 'again')
    expect(ofType(retry.sent, 'adminReply').map((m) => m.MID)).toEqual(['again'])
    expect(retry.state.persistent.log).toBe(committed.persistent.log)
    expect(ofType(change(committed, L + 13, 'promote', C).sent, 'refused')[0]!.reason).toBe(`${C} is not a learner of the cluster (add it first)`)
  })
})

describe('thesis §4.2.1: learners receive the log but never count or vote', () => {
  const withLearner = (): ReplicaState => {
    const added = change(settledLeader(), L + 10, 'add', D).state
    return deliver(added, L + 12, ...acks(added, [A], 2, L + 10)).state
  }

  // New servers join "as non-voting members (the leader replicates log entries to them, but they
  // are not considered for majorities)".
  it('a learner\'s acknowledgement does not commit an entry; a voter\'s does', () => {
    const leader = withLearner()
    const appended = deliver(leader, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' })).state
    const index = lastIndex(appended.persistent.log)
    // Every new entry goes to the learner too.
    const learnerAcked = deliver(appended, L + 21, appendReply({ src: D, dst: ME, term: 1, success: true, matchIndex: index, sentAt: L + 20 }))
    expect(learnerAcked.state.commitIndex).toBe(index - 1)
    const voterAcked = deliver(learnerAcked.state, L + 22, appendReply({ src: B, dst: ME, term: 1, success: true, matchIndex: index, sentAt: L + 20 }))
    expect(voterAcked.state.commitIndex).toBe(index)
  })

  it('every new entry is sent to the learner at once', () => {
    const { sent } = deliver(withLearner(), L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }))
    expect(ofType(sent, 'append').map((m) => m.dst)).toContain(D)
  })

  it('a learner never campaigns: its election timeout sends nothing', () => {
    const learner = deliver(
      start(initialState({ id: D, peers: THREE, seed: 1, settings: defaultSettings, initialConfiguration: configuration(THREE) })).state,
      100,
      append({ src: ME, dst: D, term: 1, entries: [noop(1), configEntry(1, configuration(THREE, [D]))] }),
    ).state
    expect(learner.configuration.learners).toEqual([D])
    const { state, sent } = fire(learner, 5_000, 'election')
    expect(sent).toEqual([])
    expect(state.role).toBe('follower')
    expect(state.persistent.currentTerm).toBe(1)
  })

  it('a learner that hears from no leader for an election timeout refuses the requests it holds: it cannot make a leader, and may never hear from one', () => {
    // D joined as a learner, then was down while a leader removed it: no leader will contact it.
    const joined = start(initialState({ id: D, peers: THREE, seed: 1, settings: defaultSettings, initialConfiguration: configuration(THREE) })).state
    const learner = deliver(joined, 100, append({ src: ME, dst: D, term: 1, entries: [noop(1), configEntry(1, configuration(THREE, [D]))] })).state
    const restarted = start(initialState({ id: D, peers: THREE, seed: 1, settings: defaultSettings, initialConfiguration: configuration(THREE) }, learner.persistent)).state
    expect(restarted.configuration.learners).toEqual([D])
    const holding = deliver(restarted, 200, get({ dst: D, MID: 'g', key: 'k' }), put({ dst: D, MID: 'p', key: 'k', value: 'v' }))
    expect(holding.sent).toEqual([])
    expect(holding.state.held.map((r) => r.MID)).toEqual(['g', 'p'])
    const { state, sent } = fire(holding.state, 5_000, 'election')
    expect(ofType(sent, 'refused').map((m) => [m.MID, m.retry])).toEqual([
      ['g', true],
      ['p', true],
    ])
    expect(ofType(sent, 'vote')).toEqual([])
    expect(state.held).toEqual([])
  })

  it('a candidate does not count a learner\'s vote', () => {
    const follower = start(replica(A, { peers: THREE, log: logOf(noop(1), configEntry(1, configuration(THREE, [D]))), term: 1 })).state
    const preCandidate = fire(follower, 5_000, 'election').state
    const learnerGrants = deliver(preCandidate, 5_001, voteReply({ src: D, dst: A, term: 2, granted: true, pre: true }))
    expect(learnerGrants.state.role).toBe('preCandidate')
    const voterGrants = deliver(learnerGrants.state, 5_002, voteReply({ src: B, dst: A, term: 2, granted: true, pre: true }))
    expect(voterGrants.state.role).toBe('candidate')
  })

  // "the leader ... should only add the new server once its log has caught up"
  it('a learner is promoted only once it holds every committed entry', () => {
    const leader = withLearner()
    const early = change(leader, L + 20, 'promote', D)
    expect(ofType(early.sent, 'refused')[0]!.reason).toBe(`${D} has not caught up yet (it holds 0 of 2 committed entries); try again`)
    const caughtUp = deliver(leader, L + 21, appendReply({ src: D, dst: ME, term: 1, success: true, matchIndex: 2, sentAt: L + 12 })).state
    const promoted = change(caughtUp, L + 22, 'promote', D)
    expect(promoted.state.configuration).toEqual(configuration([ME, A, B, D]))
    // Under the new configuration (four voters) a majority is three: A alone is no longer enough.
    const index = lastIndex(promoted.state.persistent.log)
    expect(deliver(promoted.state, L + 23, ...acks(promoted.state, [A], index, L + 22)).state.commitIndex).toBe(2)
    expect(deliver(promoted.state, L + 23, ...acks(promoted.state, [A, D], index, L + 22)).state.commitIndex).toBe(index)
  })
})

describe('thesis §4.2.2: removing members, the leader included', () => {
  it('a removed follower no longer counts; it is sent the log until it holds its removal, then let go', () => {
    const leader = settledLeader()
    const { state } = change(leader, L + 10, 'remove', B)
    expect(state.configuration).toEqual(configuration([ME, A]))
    expect(state.peers).toEqual([A])
    // Two voters: both are needed, and B is no longer one of them.
    expect(deliver(state, L + 11, ...acks(state, [B], 2, L + 10)).state.commitIndex).toBe(1)
    expect(deliver(state, L + 11, ...acks(state, [A], 2, L + 10)).state.commitIndex).toBe(2)
    // B still has the leader's progress until it acknowledges the entry that removes it.
    expect(state.progress[B]).toBeDefined()
    expect(deliver(state, L + 11, ...acks(state, [B], 1, L + 10)).state.progress[B]).toBeDefined()
    expect(deliver(state, L + 11, ...acks(state, [B], 2, L + 10)).state.progress[B]).toBeUndefined()
  })

  it('a leader that hears a vote request from a replica outside its configuration sends it the log', () => {
    const removed = change(settledLeader(), L + 10, 'remove', B).state
    const committed = deliver(removed, L + 11, ...acks(removed, [A], 2, L + 10), ...acks(removed, [B], 2, L + 10)).state
    expect(committed.progress[B]).toBeUndefined()
    const { state, sent } = deliver(committed, L + 3000, vote({ src: B, dst: ME, term: 2, lastLogIndex: 1, lastLogTerm: 1, pre: true }))
    expect(ofType(sent, 'append').map((m) => m.dst)).toEqual([B])
    expect(state.progress[B]).toBeDefined()
  })

  it('a leader that hears a forward from a replica outside its configuration appends its puts and sends it the log', () => {
    const removed = change(settledLeader(), L + 10, 'remove', B).state
    const committed = deliver(removed, L + 11, ...acks(removed, [A], 2, L + 10), ...acks(removed, [B], 2, L + 10)).state
    const lostPut = putCmd('k', 'v', 'lost')
    const { state, sent } = deliver(committed, L + 3000, { src: B, dst: ME, leader: UNKNOWN_LEADER, type: 'forward', puts: [lostPut] })
    expect(state.persistent.log.entries[state.persistent.log.entries.length - 1]?.command).toEqual(lostPut)
    expect(ofType(sent, 'append').filter((m) => m.dst === B)).not.toEqual([])
    expect(state.progress[B]).toBeDefined()
  })

  it('a removed replica whose put a newer leader\'s entries replaced forwards it to every voter on each election timeout', () => {
    // ME led term 1 and appended a put that nobody else holds.
    const leader = leaderOf(1, { peers: THREE }).state
    const appended = deliver(leader, L + 1, put({ dst: ME, MID: 'lost', key: 'k', value: 'v' })).state
    expect(lastIndex(appended.persistent.log)).toBe(2)
    // A, leader of term 2, replaces it with its own no-op and an entry that removes ME.
    const removal = append({ src: A, dst: ME, term: 2, prevLogIndex: 1, prevLogTerm: 1, entries: [noop(2), configEntry(2, configuration([A, B]))] })
    const told = deliver(appended, L + 100, removal)
    expect(told.state.configuration).toEqual(configuration([A, B]))
    expect(ofType(told.sent, 'forward').map((m) => [m.dst, m.puts.map((p) => p.MID)])).toEqual([[A, ['lost']]])
    // Nobody sends it anything more; its election timeout forwards the put to both voters.
    const later = fire(told.state, L + 100 + told.state.settings.timing.electionTimeoutMaxMs, 'election')
    expect(ofType(later.sent, 'forward').map((m) => [m.dst, m.puts.map((p) => p.MID)])).toEqual([[A, ['lost']], [B, ['lost']]])
    expect(ofType(later.sent, 'vote')).toEqual([])
  })

  it('a removed follower whose removal the leader compacted into its snapshot is sent the snapshot, and let go once it installs it', () => {
    const small = withSettings(defaultSettings, { limits: { snapshotEvery: 2 } })
    const elected = leaderOf(1, { peers: THREE, settings: small }).state
    let state = deliver(elected, L + 1, ...acks(elected, [A, B], 1, L)).state
    state = change(state, L + 10, 'remove', B).state
    state = deliver(state, L + 11, ...acks(state, [A], 2, L + 10)).state
    // More puts, acknowledged by A alone, until the entry that removes B is compacted away.
    for (let i = 0; i < 4; i++) {
      const now = L + 20 + i
      const appended = deliver(state, now, put({ dst: ME, MID: `p${i}`, key: 'k', value: `v${i}` })).state
      state = deliver(appended, now, ...acks(appended, [A], lastIndex(appended.persistent.log), now)).state
    }
    expect(state.persistent.log.snapshotIndex).toBeGreaterThan(2)
    expect(state.progress[B]).toBeDefined()
    // B, far behind, answers: it does not hold its removal yet, so it gets the snapshot.
    const rejected = deliver(state, L + 40, appendReply({ src: B, dst: ME, term: 1, success: false, conflictIndex: 1, sentAt: L + 30 }))
    expect(rejected.state.progress[B]).toBeDefined()
    const ticked = fire(rejected.state, L + 600, 'heartbeat')
    expect([...rejected.sent, ...ticked.sent].filter((m) => m.type === 'snapshot' && m.dst === B)).not.toEqual([])
    const lastIncludedIndex = rejected.state.persistent.log.snapshotIndex
    const installed = deliver(ticked.state, L + 650, {
      src: B,
      dst: ME,
      leader: ME,
      type: 'snapshotReply',
      term: 1,
      lastIncludedIndex,
      offset: 0,
      nextOffset: 0,
      installed: true,
      sentAt: L + 600,
    })
    expect(installed.state.progress[B]).toBeUndefined()
  })

  // "the leader steps down (returns to follower state) once the Cnew entry is committed ... a period
  // of time ... when the leader is managing a cluster that does not include itself; it replicates log
  // entries but does not count itself in majorities."
  it('a leader that removes itself leads without counting itself, and steps down once the change commits', () => {
    const leader = settledLeader()
    const removing = change(leader, L + 10, 'remove', ME).state
    expect(removing.role).toBe('leader')
    expect(removing.configuration).toEqual(configuration([A, B]))
    const one = deliver(removing, L + 11, ...acks(removing, [A], 2, L + 10))
    expect(one.state.role).toBe('leader')
    expect(one.state.commitIndex).toBe(1)
    const both = deliver(one.state, L + 12, ...acks(removing, [B], 2, L + 10))
    expect(both.state.commitIndex).toBe(2)
    expect(both.state.role).toBe('follower')
    expect(both.state.leader).toEqual(O.none)
    expect(ofType(both.sent, 'adminReply').map((m) => [m.MID, m.voters])).toEqual([['c-remove-0000', [A, B]]])
    // It never campaigns again, and it refuses clients with the reason.
    expect(fire(both.state, L + 10_000, 'election').sent).toEqual([])
    const refused = ofType(deliver(both.state, L + 13, get({ dst: ME, MID: 'g', key: 'k' })).sent, 'refused')
    expect(refused.map((m) => m.reason)).toEqual([
      `replica ${ME} is not a member of the cluster (voters ${A},${B}): it was removed, or has not been added yet`,
    ])
  })

  it('a leader that removed itself and steps down by check-quorum refuses the gets it was holding: no leader will tell it of another', () => {
    const leader = settledLeader()
    // Past its lease, a get waits for the followers to answer; then the leader appends its removal.
    const late = L + leader.settings.timing.electionTimeoutMinMs + 10
    const waiting = deliver(leader, late, get({ dst: ME, MID: 'g', key: 'k' }))
    expect(ofType(waiting.sent, 'ok')).toEqual([])
    expect(waiting.state.pendingReads.map((read) => read.request.MID)).toEqual(['g'])
    const removing = change(waiting.state, late + 1, 'remove', ME).state
    expect(removing.role).toBe('leader')
    // Neither A nor B answers for longer than the maximum election timeout.
    const alone = fire(removing, late + 1 + leader.settings.timing.electionTimeoutMaxMs * 2, 'heartbeat')
    expect(alone.state.role).toBe('follower')
    expect(ofType(alone.sent, 'refused').map((m) => [m.MID, m.retry])).toEqual([['g', true]])
    expect(alone.state.held).toEqual([])
  })

  // §4.2.3: "if a server receives a RequestVote request within the minimum election timeout of hearing
  // from a current leader, it does not update its term or grant its vote."
  it('a removed replica that keeps campaigning disrupts neither the leader nor its followers', () => {
    const leader = settledLeader()
    const removed = change(leader, L + 10, 'remove', B).state
    const committed = deliver(removed, L + 11, ...acks(removed, [A], 2, L + 10)).state
    // B never received its removal: it times out and campaigns, pre-vote first, then (say) for real.
    const atLeader = deliver(
      committed,
      L + 300,
      vote({ src: B, dst: ME, term: 2, lastLogIndex: 1, lastLogTerm: 1, pre: true }),
      vote({ src: B, dst: ME, term: 2, lastLogIndex: 1, lastLogTerm: 1 }),
    )
    expect(atLeader.state.role).toBe('leader')
    expect(atLeader.state.persistent.currentTerm).toBe(1)
    expect(ofType(atLeader.sent, 'voteReply').map((m) => m.granted)).toEqual([false, false])
    const follower = deliver(start(replica(A, { peers: THREE })).state, L, append({ src: ME, dst: A, term: 1, entries: [noop(1)] })).state
    const atFollower = deliver(follower, L + 300, vote({ src: B, dst: A, term: 2, lastLogIndex: 5, lastLogTerm: 1 }))
    expect(atFollower.state.persistent.currentTerm).toBe(1)
    expect(atFollower.state.leader).toEqual(O.some(ME))
    expect(ofType(atFollower.sent, 'voteReply').map((m) => m.granted)).toEqual([false])
  })
})

describe('thesis §5.1 (compaction): the configuration is kept in snapshots', () => {
  const small = withSettings(defaultSettings, { limits: { snapshotEvery: 2 } })

  it('compaction keeps the latest configuration as of the snapshot, stores it, and sends it with InstallSnapshot', () => {
    const elected = leaderOf(1, { peers: THREE, settings: small }).state
    let state = deliver(elected, L + 1, ...acks(elected, [A, B], 1, L)).state
    state = change(state, L + 10, 'add', D).state
    state = deliver(state, L + 11, ...acks(state, [A, B], 2, L + 10)).state
    const effects: Effect[] = []
    for (let i = 0; i < 4; i++) {
      const now = L + 20 + i
      const appended = deliver(state, now, put({ dst: ME, MID: `p${i}`, key: 'k', value: `v${i}` }))
      const acked = deliver(appended.state, now, ...acks(appended.state, [A, B], lastIndex(appended.state.persistent.log), now))
      state = acked.state
      effects.push(...appended.effects, ...acked.effects)
    }
    expect(state.persistent.log.snapshotIndex).toBeGreaterThanOrEqual(2)
    expect(state.persistent.snapshotConfiguration).toEqual(configuration(THREE, [D]))
    const snapshotWrites = persists(effects).flatMap((p) => (p.snapshot === undefined ? [] : [p.snapshot]))
    expect(snapshotWrites.at(-1)!.configuration).toEqual(configuration(THREE, [D]))
    // A restart on what was stored uses it.
    const restarted = initialState({ id: ME, peers: THREE, seed: 3, settings: small }, state.persistent)
    expect(restarted.configuration).toEqual(configuration(THREE, [D]))
    // The learner D, which has nothing, is sent the snapshot with the configuration.
    const rejected = deliver(state, L + 40, appendReply({ src: D, dst: ME, term: 1, success: false, conflictIndex: 1, sentAt: L + 30 }))
    const pieces = ofType(deliver(rejected.state, L + 600).sent, 'snapshot')
    const fromReject = ofType(rejected.sent, 'snapshot')
    const snapshots = [...fromReject, ...pieces]
    expect(snapshots.length).toBeGreaterThan(0)
    expect(snapshots[0]!.configuration).toEqual({ voters: THREE, learners: [D] })
  })

  // Figure 13, InstallSnapshot receiver 8: "Reset state machine using snapshot contents": the entries
  // it covers are never applied one by one at this replica.
  it('a deposed leader answers its own put that an installed snapshot shows applied, if the leader that applied it left it unanswered', () => {
    const leader = leaderOf(1, { peers: THREE }).state
    const appended = deliver(leader, L + 1, put({ dst: ME, MID: 'mine', key: 'k', value: 'v' })).state
    expect(appended.ownPuts.has('mine')).toBe(true)
    const applied = encodeSnapshot(applyCommand(emptyKv, putCmd('k', 'v', 'mine')))
    const snapshot = (recoveredUpTo?: number) => ({
      src: A,
      dst: ME,
      leader: A,
      type: 'snapshot' as const,
      term: 2,
      lastIncludedIndex: 5,
      lastIncludedTerm: 2,
      offset: 0,
      data: applied,
      done: true,
      sentAt: L + 90,
      ...(recoveredUpTo === undefined ? {} : { recoveredUpTo }),
    })
    // A recovered the put from its log at a restart and applied it unanswered: ME, which took it, answers.
    const unanswered = deliver(appended, L + 100, snapshot(4))
    expect(unanswered.state.lastApplied).toBe(5)
    expect(ofType(unanswered.sent, 'ok').map((m) => [m.dst, m.MID])).toEqual([[CLIENT, 'mine']])
    expect(unanswered.state.ownPuts.has('mine')).toBe(false)
    // A applied it in office and answered it: ME stays silent, and no longer holds it as its own to forward.
    const answered = deliver(appended, L + 100, snapshot())
    expect(ofType(answered.sent, 'ok')).toEqual([])
    expect(answered.state.ownPuts.has('mine')).toBe(false)
  })

  it('a follower installing a snapshot takes its configuration', () => {
    const joiner = start(initialState({ id: D, peers: THREE, seed: 1, initialConfiguration: configuration(THREE) })).state
    const { state } = deliver(joiner, 100, {
      src: ME,
      dst: D,
      leader: ME,
      type: 'snapshot',
      term: 1,
      lastIncludedIndex: 4,
      lastIncludedTerm: 1,
      offset: 0,
      data: '{"values":[],"recentMids":[],"olderMids":[]}',
      done: true,
      sentAt: 90,
      configuration: { voters: THREE, learners: [D] },
    })
    expect(state.lastApplied).toBe(4)
    expect(state.configuration).toEqual(configuration(THREE, [D]))
    expect(state.persistent.snapshotConfiguration).toEqual(configuration(THREE, [D]))
  })
})

describe('thesis §3.10: leadership transfer', () => {
  // "The prior leader sends a TimeoutNow request to the target server."
  it('a leader whose target is up to date sends it a TimeoutNow at once and stops taking new requests', () => {
    const leader = settledLeader()
    const transferring = deliver(leader, L + 10, admin(ME, 't', 'transfer', A))
    expect(ofType(transferring.sent, 'timeoutNow')).toEqual([{ src: ME, dst: A, leader: ME, type: 'timeoutNow', term: 1 }])
    expect(ofType(transferring.sent, 'adminReply').map((m) => m.MID)).toEqual(['t'])
    const { state, sent } = deliver(transferring.state, L + 11, put({ dst: ME, MID: 'p', key: 'k', value: 'v' }), get({ dst: ME, MID: 'g', key: 'k' }))
    expect(lastIndex(state.persistent.log)).toBe(1)
    expect(sent).toEqual([])
    expect(state.held.map((r) => r.MID)).toEqual(['p', 'g'])
  })

  // "the prior leader ... brings the target's log up to date"
  it('a leader first brings a lagging target up to date, and sends the TimeoutNow once it matches', () => {
    const elected = leaderOf(1, { peers: THREE }).state
    const settled = deliver(elected, L + 1, ...acks(elected, [A], 1, L)).state
    const transferring = deliver(settled, L + 10, admin(ME, 't', 'transfer', B))
    expect(ofType(transferring.sent, 'timeoutNow')).toEqual([])
    expect(ofType(transferring.sent, 'append').map((m) => m.dst)).toEqual([B])
    const caughtUp = deliver(transferring.state, L + 11, ...acks(transferring.state, [B], 1, L + 10))
    expect(ofType(caughtUp.sent, 'timeoutNow').map((m) => m.dst)).toEqual([B])
  })

  // "This request has the same effect as the target server's election timer firing: the target server
  // starts a new election" — at once, without a pre-vote, and voters grant it inside the lease.
  it('the target campaigns at once without a pre-vote, and voters that heard from the leader grant it', () => {
    const follower = deliver(start(replica(A, { peers: THREE })).state, L, append({ src: ME, dst: A, term: 1, entries: [noop(1)] })).state
    const { state, sent } = deliver(follower, L + 20, { src: ME, dst: A, leader: ME, type: 'timeoutNow', term: 1 })
    expect(state.role).toBe('candidate')
    expect(state.persistent.currentTerm).toBe(2)
    expect(ofType(sent, 'vote')).toEqual([
      { src: A, dst: 'FFFF', leader: 'FFFF', type: 'vote', term: 2, lastLogIndex: 1, lastLogTerm: 1, pre: false, transfer: true },
    ])
    const voter = deliver(start(replica(B, { peers: THREE })).state, L, append({ src: ME, dst: B, term: 1, entries: [noop(1)] })).state
    const granted = deliver(voter, L + 21, ofType(sent, 'vote')[0]!)
    expect(ofType(granted.sent, 'voteReply').map((m) => m.granted)).toEqual([true])
    // The prior leader grants it too, and steps down.
    const prior = deliver(settledLeader(), L + 21, ofType(sent, 'vote')[0]!)
    expect(prior.state.role).toBe('follower')
    expect(ofType(prior.sent, 'voteReply').map((m) => m.granted)).toEqual([true])
  })

  it('a TimeoutNow of an old term, or to a learner, starts nothing', () => {
    const follower = deliver(start(replica(A, { peers: THREE })).state, L, append({ src: ME, dst: A, term: 2, entries: [noop(2)] })).state
    expect(deliver(follower, L + 20, { src: ME, dst: A, leader: ME, type: 'timeoutNow', term: 1 }).sent.filter((m) => m.type === 'vote')).toEqual([])
    const learner = deliver(
      start(initialState({ id: D, peers: THREE, seed: 1, initialConfiguration: configuration(THREE) })).state,
      L,
      append({ src: ME, dst: D, term: 1, entries: [noop(1), configEntry(1, configuration(THREE, [D]))] }),
    ).state
    expect(deliver(learner, L + 20, { src: ME, dst: D, leader: ME, type: 'timeoutNow', term: 1 }).state.role).toBe('follower')
  })

  // "If the transfer does not complete within an election timeout, the prior leader aborts the
  // transfer and resumes accepting client requests."
  it('a transfer not completed within an election timeout is abandoned, and the held requests are served', () => {
    const elected = leaderOf(1, { peers: THREE }).state
    const settled = deliver(elected, L + 1, ...acks(elected, [A], 1, L)).state
    // B never answers: it cannot catch up.
    const started = deliver(settled, L + 10, admin(ME, 't', 'transfer', B), put({ dst: ME, MID: 'p', key: 'k', value: 'v' })).state
    expect(started.held.map((r) => r.MID)).toEqual(['p'])
    // A keeps answering heartbeats, so the leader keeps its majority (check-quorum).
    const transferring = deliver(started, L + 2000, ...acks(started, [A], 1, L + 2000)).state
    const late = fire(transferring, L + 10 + defaultSettings.timing.electionTimeoutMaxMs, 'heartbeat')
    expect(late.state.duties.transfer).toBeUndefined()
    expect(ofType(late.sent, 'refused').map((m) => [m.MID, m.reason])).toEqual([['t', `${B} did not catch up within an election timeout`]])
    expect(late.state.held).toEqual([])
    expect(late.state.persistent.log.entries.at(-1)).toEqual(putEntry(1, 'k', 'v', 'p'))
  })

  // The voters granted the target's campaign inside the lease, so the lease no longer protects reads.
  it('after a TimeoutNow, the prior leader answers a get only once an entry appended after it commits', () => {
    const started = deliver(settledLeader(), L + 10, admin(ME, 't', 'transfer', A)).state
    const sentTimeoutNow = deliver(started, L + 2000, ...acks(started, [B], 1, L + 2000)).state
    const resumed = fire(sentTimeoutNow, L + 10 + defaultSettings.timing.electionTimeoutMaxMs, 'heartbeat').state
    expect(resumed.duties.transfer).toBeUndefined()
    const now = L + 2600
    const asked = deliver(resumed, now, get({ dst: ME, MID: 'g', key: 'k' }))
    expect(ofType(asked.sent, 'ok')).toEqual([])
    expect(asked.state.persistent.log.entries.at(-1)).toEqual(noop(1))
    const index = lastIndex(asked.state.persistent.log)
    const answered = deliver(asked.state, now + 1, ...acks(asked.state, [A], index, now))
    expect(ofType(answered.sent, 'ok').map((m) => m.MID)).toEqual(['g'])
  })

  it('only a voter can be the target', () => {
    const { sent, state } = deliver(settledLeader(), L + 10, admin(ME, 't', 'transfer', D))
    expect(ofType(sent, 'refused')[0]!.reason).toBe(`${D} is not a voter of the cluster: only a voter can lead`)
    expect(state.duties.transfer).toBeUndefined()
  })
})

describe('operators\' requests at other replicas', () => {
  it('a follower redirects an operator to its leader; a replica that is not a member refuses', () => {
    const follower = deliver(start(replica(A, { peers: THREE })).state, L, append({ src: ME, dst: A, term: 1, entries: [noop(1)] })).state
    expect(ofType(deliver(follower, L + 1, admin(A, 'l', 'list')).sent, 'redirect')).toEqual([
      { src: A, dst: OPERATOR, leader: ME, type: 'redirect', MID: 'l' },
    ])
    const joiner = start(initialState({ id: D, peers: THREE, seed: 1, initialConfiguration: configuration(THREE) })).state
    const refused = ofType(deliver(joiner, 1, admin(D, 'l', 'list'), put({ dst: D, MID: 'p', key: 'k', value: 'v' })).sent, 'refused')
    expect(refused.map((m) => m.MID)).toEqual(['l', 'p'])
  })

  it('the leader lists its configuration', () => {
    expect(ofType(deliver(settledLeader(), L + 10, admin(ME, 'l', 'list')).sent, 'adminReply')).toEqual([
      { src: ME, dst: OPERATOR, leader: ME, type: 'adminReply', MID: 'l', voters: THREE, learners: [], addresses: {} },
    ])
  })

  it('the course\'s cluster is its first configuration: every replica named at start-up votes', () => {
    const s = replica(ME)
    expect(s.configuration).toEqual(configuration(R))
    expect(s.peers).toEqual([A, B, C, D])
  })
})
