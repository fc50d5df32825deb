/**
 * Leader election (§5.2, §5.4.1), with pre-vote (thesis §9.6) and leader stickiness (§6, thesis
 * §4.2.3), in the style of etcd's raft_paper_test.go: each test quotes the rule it checks.
 */
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import { lastIndex } from '../../src/domain/log'
import { initialState } from '../../src/domain/state'
import { frozenStep as step } from '../../src/check/stepper'
import { timerFired } from '../../src/domain/events'
import {
  append,
  appendReply,
  deliver,
  elect,
  ELECTED_AT,
  FFFF,
  fire,
  HB,
  leaderOf,
  logOfTerms,
  MAX,
  MIN,
  ofType,
  R,
  replica,
  start,
  timersCancelled,
  timersSet,
  settings,
  timing,
  limits,
  vote,
  voteReply,
  id,
  terms,
} from './helpers'

const [ME, A, B, C, D] = R

describe('§5.1/Figure 2, all servers: the term rule', () => {
  // "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower (§5.1)"
  it('a leader steps down on an AppendEntries of a higher term, and follows its sender', () => {
    const leader = leaderOf(2).state
    const { state, effects } = deliver(leader, ELECTED_AT + 10, append({ src: A, dst: ME, term: 5 }))
    expect(state.role).toBe('follower')
    expect(state.persistent.currentTerm).toBe(5)
    expect(state.persistent.votedFor).toEqual(O.none)
    expect(state.leader).toEqual(O.some(A))
    expect(timersCancelled(effects, 'heartbeat')).toBe(1)
    expect(timersSet(effects, 'election').length).toBeGreaterThan(0)
  })

  it('a leader steps down on an AppendEntries reply of a higher term, with no leader known', () => {
    const leader = leaderOf(2).state
    const { state, sent } = deliver(
      leader,
      ELECTED_AT + 10,
      appendReply({ src: A, dst: ME, term: 7, success: false }),
    )
    expect(state.role).toBe('follower')
    expect(state.persistent.currentTerm).toBe(7)
    expect(state.leader).toEqual(O.none)
    expect(state.progress).toEqual({})
    expect(ofType(sent, 'append')).toHaveLength(0)
  })

  it('a candidate steps down on a vote reply of a higher term', () => {
    const started = start(replica(ME, { term: 1 })).state
    const candidate = elect(started, 2000).state
    // Only two grants arrived: with one of the three votes missing it is still a candidate.
    const partial = deliver(
      fire(started, 2000, 'election').state,
      2000,
      voteReply({ src: A, dst: ME, term: 2, granted: true, pre: true }),
      voteReply({ src: B, dst: ME, term: 2, granted: true, pre: true }),
    ).state
    expect(candidate.role).toBe('leader')
    expect(partial.role).toBe('candidate')
    const { state } = deliver(partial, 2001, voteReply({ src: C, dst: ME, term: 4, granted: false }))
    expect(state.role).toBe('follower')
    expect(state.persistent.currentTerm).toBe(4)
  })

  it('a pre-candidate steps down on a refused pre-vote that carries a higher term', () => {
    const pre = fire(start(replica(ME, { term: 1 })).state, 2000, 'election').state
    expect(pre.role).toBe('preCandidate')
    const { state } = deliver(pre, 2001, voteReply({ src: A, dst: ME, term: 3, granted: false, pre: true }))
    expect(state.role).toBe('follower')
    expect(state.persistent.currentTerm).toBe(3)
  })

  it('a follower adopts the higher term of a RequestVote when it has heard from no leader lately', () => {
    const follower = start(replica(ME, { term: 1 })).state
    const { state } = deliver(follower, 5000, vote({ src: A, term: 3 }))
    expect(state.persistent.currentTerm).toBe(3)
    expect(state.role).toBe('follower')
  })

  it('a follower adopts the higher term of an AppendEntries reply (a stale leader hearing of a newer term)', () => {
    const follower = start(replica(ME, { term: 1 })).state
    const { state } = deliver(follower, 100, appendReply({ src: A, dst: ME, term: 6, success: false }))
    expect(state.persistent.currentTerm).toBe(6)
  })

  it('a granted pre-vote reply carries a term nobody holds yet: it changes no term', () => {
    const follower = start(replica(ME, { term: 1 })).state
    const { state } = deliver(follower, 100, voteReply({ src: A, dst: ME, term: 2, granted: true, pre: true }))
    expect(state.persistent.currentTerm).toBe(1)
    expect(state.role).toBe('follower')
  })

  it('messages of a lower term change neither the term nor the role', () => {
    const leader = leaderOf(4).state
    const { state } = deliver(
      leader,
      ELECTED_AT + 10,
      appendReply({ src: A, dst: ME, term: 2, success: false }),
      voteReply({ src: B, dst: ME, term: 3, granted: false }),
      append({ src: C, dst: ME, term: 3 }),
    )
    expect(state.role).toBe('leader')
    expect(state.persistent.currentTerm).toBe(4)
  })
})

describe('§5.2, followers: election timeout and pre-vote', () => {
  // "When servers start up, they begin as followers"; the simulator starts them all at once, and a
  // datagram reaching a replica before its hello removes it from the run: the first timeout also
  // waits for the whole cluster to have started.
  it('at start-up, the first election timeout is a usual one plus a grace per replica of the cluster', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => id(i.toString(16).toUpperCase().padStart(4, '0')))
    for (const size of [3, 5, 21]) {
      for (let seed = 1; seed <= 20; seed++) {
        const [afterMs] = timersSet(start(initialState({ id: ids(size)[0]!, peers: ids(size), seed, settings })).effects, 'election')
        const grace = size * timing.startupGracePerReplicaMs
        expect(afterMs).toBeGreaterThanOrEqual(grace + MIN)
        expect(afterMs).toBeLessThanOrEqual(grace + MAX)
      }
    }
    // Later timeouts are the usual ones.
    const follower = start(replica(ME)).state
    const [again] = timersSet(deliver(follower, 10, append({ src: A, dst: ME, term: 1 })).effects, 'election')
    expect(again).toBeGreaterThanOrEqual(MIN)
    expect(again).toBeLessThanOrEqual(MAX)
  })

  // "If election timeout elapses without receiving AppendEntries RPC from current leader or granting
  // vote to candidate: convert to candidate"; thesis §9.6: "a candidate would first ask other servers
  // whether its log was up-to-date enough to get their vote", without incrementing its term.
  it('on election timeout, a follower starts a pre-vote for term+1 broadcast to FFFF, keeping its term and vote', () => {
    const follower = start(replica(ME, { term: 3, votedFor: B, log: logOfTerms(1, 3) })).state
    const { state, sent, effects } = fire(follower, 2000, 'election')
    expect(state.role).toBe('preCandidate')
    expect(state.persistent.currentTerm).toBe(3)
    expect(state.persistent.votedFor).toEqual(O.some(B))
    expect(sent).toEqual([
      { src: ME, dst: FFFF, leader: FFFF, type: 'vote', term: 4, lastLogIndex: 2, lastLogTerm: 3, pre: true },
    ])
    expect(timersSet(effects, 'election')).toHaveLength(1)
  })

  // §5.2: "To begin an election, a follower increments its current term and transitions to candidate
  // state. It then votes for itself and issues RequestVote RPCs in parallel to each of the other servers".
  it('on a majority of pre-votes, it increments its term, votes for itself and broadcasts RequestVote', () => {
    const pre = fire(start(replica(ME, { term: 3, log: logOfTerms(1, 3) })).state, 2000, 'election').state
    const one = deliver(pre, 2001, voteReply({ src: A, dst: ME, term: 4, granted: true, pre: true }))
    expect(one.state.role).toBe('preCandidate')
    expect(one.sent).toEqual([])
    const { state, sent, effects } = deliver(one.state, 2002, voteReply({ src: B, dst: ME, term: 4, granted: true, pre: true }))
    expect(state.role).toBe('candidate')
    expect(state.persistent.currentTerm).toBe(4)
    expect(state.persistent.votedFor).toEqual(O.some(ME))
    expect(sent).toEqual([
      { src: ME, dst: FFFF, leader: FFFF, type: 'vote', term: 4, lastLogIndex: 2, lastLogTerm: 3, pre: false },
    ])
    expect(timersSet(effects, 'election')).toHaveLength(1)
  })

  it('a pre-vote granted twice by the same peer counts once', () => {
    const pre = fire(start(replica(ME)).state, 2000, 'election').state
    const grant = voteReply({ src: A, dst: ME, term: 1, granted: true, pre: true })
    const { state } = deliver(pre, 2001, grant, grant, grant)
    expect(state.role).toBe('preCandidate')
    expect(state.persistent.currentTerm).toBe(0)
  })

  it('refused pre-votes of the same term change nothing', () => {
    const pre = fire(start(replica(ME, { term: 2 })).state, 2000, 'election').state
    const { state } = deliver(
      pre,
      2001,
      ...[A, B, C, D].map((src) => voteReply({ src, dst: ME, term: 2, granted: false, pre: true })),
    )
    expect(state.role).toBe('preCandidate')
    expect(state.persistent.currentTerm).toBe(2)
  })

  // §5.2: "Raft uses randomized election timeouts ... chosen randomly from a fixed interval (e.g., 150–300ms)".
  it('election timeouts are drawn from [electionTimeoutMinMs, electionTimeoutMaxMs] and vary', () => {
    const drawn: number[] = []
    for (let seed = 1; seed <= 200; seed++) {
      let state = initialState({ id: ME, peers: R, seed, settings })
      for (let k = 0; k < 3; k++) {
        const [next, effects] = step(state, timerFired(2000 * (k + 1), 'election'))
        state = next
        drawn.push(...timersSet(effects, 'election'))
      }
    }
    expect(drawn).toHaveLength(600)
    for (const ms of drawn) {
      expect(Number.isInteger(ms)).toBe(true)
      expect(ms).toBeGreaterThanOrEqual(MIN)
      expect(ms).toBeLessThanOrEqual(MAX)
    }
    // Spread over the interval: both halves are hit, and many distinct values occur.
    expect(drawn.some((ms) => ms < (MIN + MAX) / 2)).toBe(true)
    expect(drawn.some((ms) => ms > (MIN + MAX) / 2)).toBe(true)
    expect(new Set(drawn).size).toBeGreaterThan(100)
  })

  it('replicas with different seeds draw different timeouts at start-up (so they do not all campaign at once)', () => {
    const firstTimeouts = R.map((me, i) => timersSet(start(replica(me, { seed: 1000 + i })).effects, 'election')[0])
    expect(new Set(firstTimeouts).size).toBeGreaterThan(1)
  })

  it('a leader ignores its election timer', () => {
    const leader = leaderOf(1).state
    const { state, sent } = fire(leader, ELECTED_AT + 100, 'election')
    expect(state).toStrictEqual(leader)
    expect(sent).toEqual([])
  })

  // Figure 2, followers: "Respond to RPCs from candidates and leaders"; an AppendEntries of the
  // current leader resets the election timer.
  it('an AppendEntries from the current leader re-arms the election timer', () => {
    const follower = start(replica(ME, { term: 1 })).state
    const { effects } = deliver(follower, 100, append({ src: A, dst: ME, term: 1 }), append({ src: A, dst: ME, term: 1 }))
    expect(timersSet(effects, 'election').length).toBeGreaterThanOrEqual(2)
  })
})

describe('§5.2/§5.4.1, RequestVote receiver', () => {
  const follower = (term = 2, log = logOfTerms(1, 2)) => start(replica(ME, { term, log })).state
  const later = 10_000

  // Figure 2, RequestVote RPC: "1. Reply false if term < currentTerm (§5.1)".
  it('replies false, with its own term, to a RequestVote of a lower term', () => {
    const { state, sent } = deliver(follower(5), later, vote({ src: A, term: 4, lastLogIndex: 9, lastLogTerm: 4 }))
    expect(sent).toEqual([{ src: ME, dst: A, leader: FFFF, type: 'voteReply', term: 5, granted: false, pre: false }])
    expect(state.persistent.votedFor).toEqual(O.none)
  })

  // §5.2: "Each server will vote for at most one candidate in a given term, on a first-come-first-served basis".
  it('votes for at most one candidate per term, first come first served', () => {
    const first = deliver(follower(), later, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(first.sent).toEqual([{ src: ME, dst: A, leader: FFFF, type: 'voteReply', term: 3, granted: true, pre: false }])
    expect(first.state.persistent.votedFor).toEqual(O.some(A))
    expect(timersSet(first.effects, 'election').length).toBeGreaterThan(0)

    const second = deliver(first.state, later + 1, vote({ src: B, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(second.sent).toEqual([{ src: ME, dst: B, leader: FFFF, type: 'voteReply', term: 3, granted: false, pre: false }])
    expect(second.state.persistent.votedFor).toEqual(O.some(A))

    // The same candidate asking again (its request or our reply was lost) gets the vote again.
    const again = deliver(second.state, later + 2, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(ofType(again.sent, 'voteReply')[0]?.granted).toBe(true)
  })

  it('a candidate has voted for itself and refuses others of its term', () => {
    const pre = fire(follower(), later, 'election').state
    const candidate = deliver(
      pre,
      later,
      voteReply({ src: A, dst: ME, term: 3, granted: true, pre: true }),
      voteReply({ src: B, dst: ME, term: 3, granted: true, pre: true }),
    ).state
    expect(candidate.role).toBe('candidate')
    const { sent } = deliver(candidate, later + 1, vote({ src: C, term: 3, lastLogIndex: 9, lastLogTerm: 3 }))
    expect(ofType(sent, 'voteReply')[0]?.granted).toBe(false)
  })

  // §5.4.1: "If the logs have last entries with different terms, then the log with the later term is more up-to-date."
  it('denies its vote to a candidate whose last term is older, however long its log', () => {
    const { state, sent } = deliver(follower(), later, vote({ src: A, term: 3, lastLogIndex: 10, lastLogTerm: 1 }))
    expect(ofType(sent, 'voteReply')).toEqual([
      { src: ME, dst: A, leader: FFFF, type: 'voteReply', term: 3, granted: false, pre: false },
    ])
    // The term rule still applies to the refused request.
    expect(state.persistent.currentTerm).toBe(3)
    expect(state.persistent.votedFor).toEqual(O.none)
  })

  it('grants its vote to a candidate whose last term is newer, however short its log', () => {
    const { sent } = deliver(follower(2, logOfTerms(1, 1, 1, 2)), later, vote({ src: A, term: 3, lastLogIndex: 1, lastLogTerm: 3 }))
    expect(ofType(sent, 'voteReply')[0]?.granted).toBe(true)
  })

  // §5.4.1: "If the logs end with the same term, then whichever log is longer is more up-to-date."
  it('denies its vote to a candidate whose log ends with the same term but is shorter', () => {
    const { sent } = deliver(follower(2, logOfTerms(1, 2, 2)), later, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(ofType(sent, 'voteReply')[0]?.granted).toBe(false)
  })

  it('grants its vote to a candidate whose log ends with the same term and is as long or longer', () => {
    for (const lastLogIndex of [3, 4]) {
      const { sent } = deliver(follower(2, logOfTerms(1, 2, 2)), later, vote({ src: A, term: 3, lastLogIndex, lastLogTerm: 2 }))
      expect(ofType(sent, 'voteReply')[0]?.granted).toBe(true)
    }
  })

  it('applies the same up-to-date check to pre-votes', () => {
    const older = deliver(follower(), later, vote({ src: A, term: 3, lastLogIndex: 5, lastLogTerm: 1, pre: true }))
    const shorter = deliver(follower(2, logOfTerms(1, 2, 2)), later, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2, pre: true }))
    const fine = deliver(follower(), later, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2, pre: true }))
    expect(ofType(older.sent, 'voteReply')[0]?.granted).toBe(false)
    expect(ofType(shorter.sent, 'voteReply')[0]?.granted).toBe(false)
    expect(ofType(fine.sent, 'voteReply')).toEqual([
      { src: ME, dst: A, leader: FFFF, type: 'voteReply', term: 3, granted: true, pre: true },
    ])
  })

  // Thesis §9.6: the pre-vote "does not increment its term"; a pre-vote request changes nothing at the voter.
  it('a pre-vote, granted or not, changes no state at the voter', () => {
    const before = follower()
    const granted = deliver(before, later, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2, pre: true }))
    expect(ofType(granted.sent, 'voteReply')[0]?.granted).toBe(true)
    expect(granted.state).toBe(before)
    expect(granted.effects.filter((e) => e.kind === 'setTimer')).toEqual([])

    const refused = deliver(before, later, vote({ src: A, term: 9, lastLogIndex: 1, lastLogTerm: 1, pre: true }))
    expect(ofType(refused.sent, 'voteReply')).toEqual([
      { src: ME, dst: A, leader: FFFF, type: 'voteReply', term: 2, granted: false, pre: true },
    ])
    expect(refused.state).toBe(before)
  })

  it('refuses a pre-vote for a term not above its own', () => {
    const { sent } = deliver(follower(3), later, vote({ src: A, term: 3, lastLogIndex: 9, lastLogTerm: 3, pre: true }))
    expect(ofType(sent, 'voteReply')[0]?.granted).toBe(false)
  })

  // §6 (disruptive servers) / thesis §4.2.3: "if a server receives a RequestVote request within the
  // minimum election timeout of hearing from a current leader, it does not update its term or grant its vote".
  it('within the minimum election timeout of hearing from a leader, grants no vote and keeps its term', () => {
    const heard = deliver(follower(2), 5000, append({ src: A, dst: ME, term: 2, prevLogIndex: 2, prevLogTerm: 2 })).state
    const tooSoon = deliver(heard, 5000 + MIN - 1, vote({ src: B, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(ofType(tooSoon.sent, 'voteReply')).toEqual([
      { src: ME, dst: B, leader: A, type: 'voteReply', term: 2, granted: false, pre: false },
    ])
    expect(tooSoon.state.persistent.currentTerm).toBe(2)
    expect(tooSoon.state.persistent.votedFor).toEqual(O.none)
    expect(tooSoon.state.leader).toEqual(O.some(A))

    const preTooSoon = deliver(heard, 5000 + MIN - 1, vote({ src: B, term: 3, lastLogIndex: 2, lastLogTerm: 2, pre: true }))
    expect(ofType(preTooSoon.sent, 'voteReply')[0]?.granted).toBe(false)

    const afterwards = deliver(heard, 5000 + MIN, vote({ src: B, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(ofType(afterwards.sent, 'voteReply')[0]).toMatchObject({ term: 3, granted: true })
    expect(afterwards.state.persistent.currentTerm).toBe(3)

    const preAfterwards = deliver(heard, 5000 + MIN, vote({ src: B, term: 3, lastLogIndex: 2, lastLogTerm: 2, pre: true }))
    expect(ofType(preAfterwards.sent, 'voteReply')[0]?.granted).toBe(true)
  })

  it('a freshly (re)started replica waits a minimum election timeout before voting', () => {
    const restarted = start(replica(ME, { term: 2, log: logOfTerms(1, 2) }), 1000).state
    const early = deliver(restarted, 1000 + MIN - 1, vote({ src: A, term: 3, lastLogIndex: 2, lastLogTerm: 2 }))
    expect(ofType(early.sent, 'voteReply')[0]?.granted).toBe(false)
    expect(early.state.persistent.currentTerm).toBe(2)
  })

  it('a leader neither grants a vote nor adopts the term of a RequestVote (leader stickiness)', () => {
    const leader = leaderOf(2).state
    const { state, sent } = deliver(leader, ELECTED_AT + 10 * MAX, vote({ src: A, term: 3, lastLogIndex: 5, lastLogTerm: 2 }))
    expect(ofType(sent, 'voteReply')[0]).toMatchObject({ term: 2, granted: false })
    expect(state.role).toBe('leader')
    expect(state.persistent.currentTerm).toBe(2)
  })
})

describe('§5.2, candidates', () => {
  // "If votes received from majority of servers: become leader".
  it('becomes leader on a majority of votes (itself and two of four peers)', () => {
    const follower = start(replica(ME, { term: 1, log: logOfTerms(1) })).state
    const { state } = elect(follower, 2000)
    expect(state.role).toBe('leader')
    expect(state.leader).toEqual(O.some(ME))
    expect(state.persistent.currentTerm).toBe(2)
  })

  it('is not leader with one vote short of a majority, and a vote counts once per voter', () => {
    const pre = fire(start(replica(ME)).state, 2000, 'election').state
    const candidate = deliver(
      pre,
      2000,
      voteReply({ src: A, dst: ME, term: 1, granted: true, pre: true }),
      voteReply({ src: B, dst: ME, term: 1, granted: true, pre: true }),
    ).state
    const grant = voteReply({ src: A, dst: ME, term: 1, granted: true })
    const { state } = deliver(candidate, 2001, grant, grant, voteReply({ src: B, dst: ME, term: 1, granted: false }))
    expect(state.role).toBe('candidate')
    expect(deliver(state, 2002, voteReply({ src: C, dst: ME, term: 1, granted: true })).state.role).toBe('leader')
  })

  it('ignores granted votes of another term', () => {
    const pre = fire(start(replica(ME, { term: 4 })).state, 2000, 'election').state
    const candidate = deliver(
      pre,
      2000,
      voteReply({ src: A, dst: ME, term: 5, granted: true, pre: true }),
      voteReply({ src: B, dst: ME, term: 5, granted: true, pre: true }),
    ).state
    const { state } = deliver(
      candidate,
      2001,
      ...[A, B, C].map((src) => voteReply({ src, dst: ME, term: 4, granted: true })),
    )
    expect(state.role).toBe('candidate')
  })

  // §5.2: "If the leader's term ... is at least as large as the candidate's current term, then the
  // candidate recognizes the leader as legitimate and returns to follower state."
  it('returns to follower on an AppendEntries from a leader of its own term', () => {
    const pre = fire(start(replica(ME, { term: 1 })).state, 2000, 'election').state
    const candidate = deliver(
      pre,
      2000,
      voteReply({ src: A, dst: ME, term: 2, granted: true, pre: true }),
      voteReply({ src: B, dst: ME, term: 2, granted: true, pre: true }),
    ).state
    expect(candidate.role).toBe('candidate')
    const { state, sent } = deliver(candidate, 2001, append({ src: C, dst: ME, term: 2 }))
    expect(state.role).toBe('follower')
    expect(state.leader).toEqual(O.some(C))
    expect(state.persistent.currentTerm).toBe(2)
    expect(ofType(sent, 'appendReply')[0]).toMatchObject({ dst: C, term: 2, success: true })
  })

  it('returns to follower on an AppendEntries from a leader of a newer term', () => {
    const pre = fire(start(replica(ME, { term: 1 })).state, 2000, 'election').state
    const { state } = deliver(pre, 2001, append({ src: C, dst: ME, term: 3 }))
    expect(state.role).toBe('follower')
    expect(state.persistent.currentTerm).toBe(3)
    expect(state.leader).toEqual(O.some(C))
  })

  // "If the term in the RPC is smaller than the candidate's current term, then the candidate rejects
  // the RPC and continues in candidate state."
  it('rejects an AppendEntries of an older term and stays candidate', () => {
    const pre = fire(start(replica(ME, { term: 3 })).state, 2000, 'election').state
    const { state, sent } = deliver(pre, 2001, append({ src: C, dst: ME, term: 2 }))
    expect(state.role).toBe('preCandidate')
    expect(ofType(sent, 'appendReply')[0]).toMatchObject({ term: 3, success: false })
  })

  // "If many followers become candidates at the same time, votes could be split ... each candidate
  // will time out and start a new election"; with pre-vote, the new election begins with a pre-vote.
  it('after a split vote, times out into a new pre-vote round for the next term', () => {
    const pre = fire(start(replica(ME, { term: 1 })).state, 2000, 'election').state
    const candidate = deliver(
      pre,
      2000,
      voteReply({ src: A, dst: ME, term: 2, granted: true, pre: true }),
      voteReply({ src: B, dst: ME, term: 2, granted: true, pre: true }),
    ).state
    const split = deliver(
      candidate,
      2001,
      voteReply({ src: A, dst: ME, term: 2, granted: true }),
      voteReply({ src: B, dst: ME, term: 2, granted: false }),
      voteReply({ src: C, dst: ME, term: 2, granted: false }),
    ).state
    expect(split.role).toBe('candidate')
    const { state, sent, effects } = fire(split, 2000 + MAX, 'election')
    expect(state.role).toBe('preCandidate')
    expect(state.persistent.currentTerm).toBe(2)
    expect(state.votesGranted).toEqual([ME])
    expect(sent).toEqual([{ src: ME, dst: FFFF, leader: FFFF, type: 'vote', term: 3, lastLogIndex: 0, lastLogTerm: 0, pre: true }])
    expect(timersSet(effects, 'election')).toHaveLength(1)
  })

  it('holds client requests while campaigning, with no leader to point to', () => {
    const pre = fire(start(replica(ME)).state, 2000, 'election').state
    const { state, sent } = deliver(pre, 2001, {
      src: id('0015'),
      dst: ME,
      leader: FFFF,
      type: 'get',
      MID: 'm1',
      key: 'k',
    })
    expect(sent).toEqual([])
    expect(state.held.map((r) => r.MID)).toEqual(['m1'])
  })
})

describe('§5.2/§8, a new leader', () => {
  // §8: "each leader commit a blank no-op entry into the log at the start of its term"; §5.2: "It then
  // sends heartbeat messages to all of the other servers to establish its authority".
  it('appends a no-op of its term and sends AppendEntries to every peer at once', () => {
    const follower = start(replica(ME, { term: 2, log: logOfTerms(1, 2) })).state
    const { state, effects } = elect(follower, 2000)
    expect(terms(state.persistent.log)).toEqual([1, 2, 3])
    expect(state.persistent.log.entries[2]?.command).toEqual({ op: 'noop' })
    const last = effects.findIndex((e) => e.kind === 'cancelTimer')
    const appends = ofType(
      effects.slice(last).flatMap((e) => (e.kind === 'send' ? [e.message] : [])),
      'append',
    )
    expect(appends.map((m) => m.dst).sort()).toEqual([A, B, C, D])
    for (const m of appends) {
      expect(m).toMatchObject({
        src: ME,
        leader: ME,
        term: 3,
        prevLogIndex: 2,
        prevLogTerm: 2,
        entries: [{ term: 3, command: { op: 'noop' } }],
        leaderCommit: 0,
        sentAt: 2000,
      })
    }
    // nextIndex starts just past the leader's log (the no-op is in flight), matchIndex at 0.
    for (const peer of [A, B, C, D]) {
      expect(state.progress[peer]).toMatchObject({ nextIndex: lastIndex(state.persistent.log) + 1, matchIndex: 0 })
    }
  })

  it('cancels its election timer and arms its heartbeat timer', () => {
    const { effects } = elect(start(replica(ME)).state, 2000)
    const after = effects.slice(effects.findIndex((e) => e.kind === 'cancelTimer' && e.timer === 'election'))
    expect(timersCancelled(after, 'election')).toBe(1)
    expect(timersSet(after, 'heartbeat')).toEqual([HB / 2])
    expect(timersSet(after, 'election')).toEqual([])
  })
})

describe('asking again for votes that did not come (lossy networks)', () => {
  const [ME, A, B, C, D] = R

  it('a pre-candidate asks again, one by one, the peers that have not granted, backing off, a bounded number of times', () => {
    const boot = start(replica(ME)).state
    const campaign = fire(boot, MAX + 1, 'election')
    expect(timersSet(campaign.effects, 'voteRetry')).toEqual([timing.voteRetryMs])
    const oneGrant = deliver(campaign.state, MAX + 2, voteReply({ src: A, dst: ME, term: 1, granted: true, pre: true })).state

    let state = oneGrant
    let now = MAX + 1
    for (let retry = 1; retry <= limits.voteRetries; retry++) {
      now += timing.voteRetryMs * 2 ** (retry - 1)
      const again = fire(state, now, 'voteRetry')
      const asked = ofType(again.sent, 'vote')
      expect(asked.map((m) => m.dst).sort()).toEqual([B, C, D])
      expect(asked.every((m) => m.pre && m.term === 1)).toBe(true)
      expect(timersSet(again.effects, 'voteRetry')).toEqual([timing.voteRetryMs * 2 ** retry])
      state = again.state
    }
    const done = fire(state, now + 10_000, 'voteRetry')
    expect(done.sent).toEqual([])
    expect(timersSet(done.effects, 'voteRetry')).toEqual([])
  })

  it('a voter asked again grants again the candidate it voted for in that term', () => {
    const voter = start(replica(A)).state
    const request = vote({ src: ME, dst: A, term: 1, lastLogIndex: 0, lastLogTerm: 0 })
    const first = deliver(voter, MAX + 1, request)
    const second = deliver(first.state, MAX + 2, request)
    expect(ofType(second.sent, 'voteReply')).toEqual([expect.objectContaining({ dst: ME, term: 1, granted: true })])
  })

  it('a campaign that ends stops asking: the new leader and the follower cancel the retry timer', () => {
    const { effects } = leaderOf(1)
    expect(timersCancelled(effects, 'voteRetry')).toBeGreaterThan(0)
  })
})
