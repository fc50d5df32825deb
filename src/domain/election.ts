/**
 * Elections: timeouts, pre-vote and vote (§5.2, §5.4.1, thesis §9.6), and the role changes they
 * cause. A follower that heard from a leader within the minimum election timeout neither grants
 * votes nor moves to a newer term (§6, "disruptive servers"); this is also what makes the leader's
 * read lease safe.
 */
import * as O from 'fp-ts/Option'
import { cancelTimer, log, send, setTimer } from '../effects/effect'
import { envelope, type StepContext } from './context'
import { isUpToDate, lastIndex, lastTerm } from './log'
import { isMajority } from './quorum'
import { randomIntBetween } from './random'
import { clusterSize, updatePersistent, type MutableState } from './state'
import { BROADCAST, type NodeId, type RequestVote } from './wire'

/** §5.2: "election timeouts are chosen randomly from a fixed interval". */
export const resetElectionTimer = (s: MutableState, ctx: StepContext): void => {
  const { electionTimeoutMinMs, electionTimeoutMaxMs } = s.timing
  const [afterMs, random] = randomIntBetween(s.random, electionTimeoutMinMs, electionTimeoutMaxMs)
  s.random = random
  ctx.effects.push(setTimer('election', afterMs))
}

/** Whether this replica still trusts a leader it heard from too recently to vote for anyone else. */
export const withinLeaderLease = (s: MutableState, now: number): boolean =>
  s.role === 'leader' || now - s.lastLeaderContact < s.timing.electionTimeoutMinMs

/** Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower". */
export const becomeFollower = (s: MutableState, ctx: StepContext, term: number, leader: O.Option<NodeId>): void => {
  if (term > s.persistent.currentTerm) {
    updatePersistent(s, { currentTerm: term, votedFor: O.none })
  }
  if (s.role === 'leader') {
    ctx.effects.push(cancelTimer('heartbeat'))
    s.progress = {}
    // Gets never touched the log, so another leader may answer them: hold them for it.
    s.held.push(...s.pendingReads)
    s.pendingReads = []
  }
  if (s.role !== 'follower' || !O.getEq({ equals: (a: NodeId, b: NodeId) => a === b }).equals(s.leader, leader)) {
    ctx.effects.push(log(`follower in term ${s.persistent.currentTerm}, leader ${O.getOrElse(() => 'unknown')(leader)}`))
  }
  if (s.role === 'preCandidate' || s.role === 'candidate') ctx.effects.push(cancelTimer('voteRetry'))
  s.role = 'follower'
  s.leader = leader
  s.votesGranted = []
  resetElectionTimer(s, ctx)
}

const voteRequest = (s: MutableState, dst: NodeId, pre: boolean) =>
  send({
    ...envelope(s, dst),
    type: 'vote',
    term: pre ? s.persistent.currentTerm + 1 : s.persistent.currentTerm,
    lastLogIndex: lastIndex(s.persistent.log),
    lastLogTerm: lastTerm(s.persistent.log),
    pre,
  })

/** Asks every peer for its (pre-)vote, and arms the timer that asks again those that do not answer. */
const requestVotes = (s: MutableState, ctx: StepContext, pre: boolean): void => {
  ctx.effects.push(voteRequest(s, BROADCAST, pre))
  s.voteRetriesDone = 0
  ctx.effects.push(setTimer('voteRetry', s.timing.voteRetryMs))
}

/**
 * A lost request or reply would cost a whole election timeout, and when only a bare majority is
 * alive every voter counts: ask again the peers that have not granted, a few times, backing off.
 * Repeating a request is harmless: a pre-vote changes nothing, and a voter grants again the
 * candidate it voted for in that term.
 */
export const onVoteRetryTimer = (s: MutableState, ctx: StepContext): void => {
  if (s.role !== 'preCandidate' && s.role !== 'candidate') return
  if (s.voteRetriesDone >= s.timing.voteRetries) return
  for (const peer of s.peers) {
    if (!s.votesGranted.includes(peer)) ctx.effects.push(voteRequest(s, peer, s.role === 'preCandidate'))
  }
  s.voteRetriesDone += 1
  ctx.effects.push(setTimer('voteRetry', s.timing.voteRetryMs * 2 ** s.voteRetriesDone))
}

/** Thesis §9.6: before disturbing anyone, ask whether a majority would vote for us in the next term. */
export const startPreVote = (s: MutableState, ctx: StepContext): void => {
  s.role = 'preCandidate'
  s.leader = O.none
  s.votesGranted = [s.id]
  ctx.effects.push(log(`pre-vote for term ${s.persistent.currentTerm + 1}`))
  requestVotes(s, ctx, true)
  resetElectionTimer(s, ctx)
}

/** §5.2: "a follower increments its current term and transitions to candidate state ... votes for itself". */
export const startElection = (s: MutableState, ctx: StepContext): void => {
  updatePersistent(s, { currentTerm: s.persistent.currentTerm + 1, votedFor: O.some(s.id) })
  s.role = 'candidate'
  s.leader = O.none
  s.votesGranted = [s.id]
  ctx.effects.push(log(`candidate in term ${s.persistent.currentTerm}`))
  requestVotes(s, ctx, false)
  resetElectionTimer(s, ctx)
}

/** Figure 2, RequestVote receiver implementation, for both the pre-vote and the real vote. */
export const onRequestVote = (s: MutableState, ctx: StepContext, m: RequestVote): void => {
  const reply = (term: number, granted: boolean) =>
    ctx.effects.push(send({ ...envelope(s, m.src), type: 'voteReply', term, granted, pre: m.pre }))
  const upToDate = isUpToDate(s.persistent.log, m.lastLogIndex, m.lastLogTerm)
  const inLease = withinLeaderLease(s, ctx.now)

  if (m.pre) {
    // A pre-vote changes nothing here: it only says whether a real vote would be granted.
    const granted = m.term > s.persistent.currentTerm && upToDate && !inLease
    reply(granted ? m.term : s.persistent.currentTerm, granted)
    return
  }
  if (m.term > s.persistent.currentTerm) {
    if (inLease) {
      reply(s.persistent.currentTerm, false)
      return
    }
    becomeFollower(s, ctx, m.term, O.none)
  }
  // §5.2: "each server will vote for at most one candidate in a given term, on a first-come-first-served basis";
  // §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the candidate".
  const votedFor = s.persistent.votedFor
  const granted =
    m.term === s.persistent.currentTerm && (O.isNone(votedFor) || votedFor.value === m.src) && upToDate
  if (granted) {
    updatePersistent(s, { votedFor: O.some(m.src) })
    resetElectionTimer(s, ctx)
  }
  reply(s.persistent.currentTerm, granted)
}

/** Records a granted vote; true when the votes now make a majority (§5.2). */
export const tallyVote = (s: MutableState, voter: NodeId): boolean => {
  if (!s.votesGranted.includes(voter)) s.votesGranted.push(voter)
  return isMajority(s.votesGranted.length, clusterSize(s))
}
