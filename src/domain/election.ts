/**
 * Elections: timeouts, pre-vote and vote (§5.2, §5.4.1, thesis §9.6), and the role changes they
 * cause. A follower that heard from a leader within the minimum election timeout neither grants
 * votes nor moves to a newer term (§6, "disruptive servers"); this is also what makes the leader's
 * read lease safe.
 */
import * as O from 'fp-ts/Option'
import { cancelTimer, log, send, setTimer } from './effect'
import { pendingReadsHeld } from './client-requests'
import { leaderField, type StepContext } from './context'
import { sameOptionalId } from './ids'
import { isUpToDate, lastIndex, lastTerm } from './log'
import { isVoter } from './membership'
import { isMajorityOf } from './quorum'
import { randomIntBetween, type RandomState } from './random'
import { clusterSize, noLeaderDuties, type ReplicaState, withPersistent, withState } from './state'
import { BROADCAST, type NodeId, type RequestVote } from './wire'

/**
 * §5.2: "election timeouts are chosen randomly from a fixed interval". Arms the election timer,
 * `waitFirstMs` later than the drawn timeout; returns the random generator's next state.
 */
export const armElectionTimer = (s: ReplicaState, ctx: StepContext, waitFirstMs = 0): RandomState => {
  const { electionTimeoutMinMs, electionTimeoutMaxMs } = s.settings.timing
  const [afterMs, random] = randomIntBetween(s.random, electionTimeoutMinMs, electionTimeoutMaxMs)
  ctx.effects.push(setTimer('election', waitFirstMs + afterMs))
  return random
}

/**
 * Start-up: the first election timeout also waits for the whole cluster to have started. The
 * simulator starts every replica at once, and a datagram that reaches a replica before its hello
 * removes that replica from the run (protocol.md). A replica's timer starts at its own hello, so
 * what matters is how far apart the hellos come: 21 Node processes spawned together on two cores
 * said their first hello 1.7 to 1.9 s and their last 2.8 to 3.4 s after the spawn (about 80 ms
 * apart each), and the earliest would campaign after its minimum timeout, 1.5 s, too soon. The
 * wait grows with the cluster, with a margin.
 */
export const armFirstElectionTimer = (s: ReplicaState, ctx: StepContext): ReplicaState =>
  withState(s, { random: armElectionTimer(s, ctx, clusterSize(s) * s.settings.timing.startupGracePerReplicaMs) })

/** The state after arming the election timer (see armElectionTimer). */
export const resetElectionTimer = (s: ReplicaState, ctx: StepContext): ReplicaState => withState(s, { random: armElectionTimer(s, ctx) })

/** Whether this replica still trusts a leader it heard from too recently to vote for anyone else. */
export const withinLeaderLease = (s: ReplicaState, now: number): boolean =>
  s.role === 'leader' || now - s.lastLeaderContact < s.settings.timing.electionTimeoutMinMs

/** Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower". */
export const becomeFollower = (s: ReplicaState, ctx: StepContext, term: number, leader: O.Option<NodeId>): ReplicaState => {
  const persistent = term > s.persistent.currentTerm ? withPersistent(s.persistent, { currentTerm: term, votedFor: O.none }) : s.persistent
  if (s.role === 'leader') ctx.effects.push(cancelTimer('heartbeat'))
  if (s.role !== 'follower' || !sameOptionalId(s.leader, leader)) {
    ctx.effects.push(log(`follower in term ${persistent.currentTerm}, leader ${O.isSome(leader) ? leader.value : 'unknown'}`))
  }
  if (s.role === 'preCandidate' || s.role === 'candidate') ctx.effects.push(cancelTimer('voteRetry'))
  return resetElectionTimer(
    withState(
      s,
      { persistent, role: 'follower', leader, votesGranted: [] },
      s.role === 'leader' ? { progress: {}, ...pendingReadsHeld(s), duties: noLeaderDuties } : {},
    ),
    ctx,
  )
}

const voteRequest = (s: ReplicaState, dst: NodeId, pre: boolean, transfer = false) =>
  send({
    src: s.id,
    dst,
    leader: leaderField(s),
    type: 'vote',
    term: pre ? s.persistent.currentTerm + 1 : s.persistent.currentTerm,
    lastLogIndex: lastIndex(s.persistent.log),
    lastLogTerm: lastTerm(s.persistent.log),
    pre,
    ...(transfer ? { transfer: true as const } : {}),
  })

/**
 * Asks every peer for its (pre-)vote, and arms the timer that asks again those that do not answer
 * (none to ask for a voter alone in its configuration: candidate.ts's campaign wins at once).
 */
const requestVotes = (s: ReplicaState, ctx: StepContext, pre: boolean, transfer = false): ReplicaState => {
  if (s.peers.length > 0) {
    ctx.effects.push(voteRequest(s, BROADCAST, pre, transfer))
    ctx.effects.push(setTimer('voteRetry', s.settings.timing.voteRetryMs))
  }
  return withState(s, { voteRetriesDone: 0 })
}

/**
 * A lost request or reply would cost a whole election timeout, and when only a bare majority is
 * alive every voter counts: ask again the peers that have not granted, a few times, backing off.
 * Repeating a request is harmless: a pre-vote changes nothing, and a voter grants again the
 * candidate it voted for in that term.
 */
export const onVoteRetryTimer = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.role !== 'preCandidate' && s.role !== 'candidate') return s
  if (s.voteRetriesDone >= s.settings.limits.voteRetries) return s
  for (const peer of s.peers) {
    if (!s.votesGranted.includes(peer)) ctx.effects.push(voteRequest(s, peer, s.role === 'preCandidate'))
  }
  const voteRetriesDone = s.voteRetriesDone + 1
  ctx.effects.push(setTimer('voteRetry', s.settings.timing.voteRetryMs * 2 ** voteRetriesDone))
  return withState(s, { voteRetriesDone })
}

/**
 * Thesis §9.6: before disturbing anyone, ask whether a majority would vote for us in the next term.
 * Only a voter of its configuration campaigns (ch. 4): a learner, a replica not yet added and one
 * that knows it was removed wait for a leader instead.
 */
export const startPreVote = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (!isVoter(s.configuration, s.id)) return resetElectionTimer(s, ctx)
  ctx.effects.push(log(`pre-vote for term ${s.persistent.currentTerm + 1}`))
  const asking = requestVotes(withState(s, { role: 'preCandidate', leader: O.none, votesGranted: [s.id] }), ctx, true)
  return resetElectionTimer(asking, ctx)
}

/**
 * §5.2: "a follower increments its current term and transitions to candidate state ... votes for
 * itself". With `transfer`, the campaign a TimeoutNow asked for (thesis §3.10): no pre-vote, and
 * voters grant it inside the read lease.
 */
export const startElection = (s: ReplicaState, ctx: StepContext, transfer = false): ReplicaState => {
  const persistent = withPersistent(s.persistent, { currentTerm: s.persistent.currentTerm + 1, votedFor: O.some(s.id) })
  ctx.effects.push(log(`candidate in term ${persistent.currentTerm}${transfer ? ' (leadership transfer)' : ''}`))
  const asking = requestVotes(withState(s, { persistent, role: 'candidate', leader: O.none, votesGranted: [s.id] }), ctx, false, transfer)
  return resetElectionTimer(asking, ctx)
}

/** Whether the votes granted so far are a majority of the configuration's voters (thesis ch. 4). */
export const hasMajority = (s: ReplicaState): boolean => isMajorityOf(s.configuration.voters, s.votesGranted)

/**
 * Figure 2, RequestVote receiver implementation, for both the pre-vote and the real vote. The term
 * rule has been applied (step.ts): a real vote request is of our term; a pre-vote request names
 * the term its sender would campaign in, at least ours.
 */
export const onRequestVote = (s: ReplicaState, ctx: StepContext, m: RequestVote): ReplicaState => {
  const upToDate = isUpToDate(s.persistent.log, m.lastLogIndex, m.lastLogTerm)
  if (m.pre) {
    // A pre-vote changes nothing here: it only says whether a real vote would be granted.
    const granted = m.term > s.persistent.currentTerm && upToDate && !withinLeaderLease(s, ctx.now)
    return voteReply(s, ctx, m, granted ? m.term : s.persistent.currentTerm, granted)
  }
  // §5.2: "each server will vote for at most one candidate in a given term, on a first-come-first-served basis";
  // §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the candidate".
  const votedFor = s.persistent.votedFor
  const granted = (O.isNone(votedFor) || votedFor.value === m.src) && upToDate
  if (!granted) return refuseVote(s, ctx, m)
  const voted = resetElectionTimer(withState(s, { persistent: withPersistent(s.persistent, { votedFor: O.some(m.src) }) }), ctx)
  return voteReply(voted, ctx, m, voted.persistent.currentTerm, true)
}

/** A (pre-)vote refused, with our term. */
export const refuseVote = (s: ReplicaState, ctx: StepContext, m: RequestVote): ReplicaState =>
  voteReply(s, ctx, m, s.persistent.currentTerm, false)

const voteReply = (s: ReplicaState, ctx: StepContext, m: RequestVote, term: number, granted: boolean): ReplicaState => {
  ctx.effects.push(send({ src: s.id, dst: m.src, leader: leaderField(s), type: 'voteReply', term, granted, pre: m.pre }))
  return s
}

/**
 * Records a granted vote: the state with it counted, and whether the votes now make a majority
 * (§5.2) of the configuration's voters; a learner's grant never counts (thesis ch. 4).
 */
export const tallyVote = (s: ReplicaState, voter: NodeId): readonly [ReplicaState, boolean] => {
  const votesGranted = s.votesGranted.includes(voter) ? s.votesGranted : [...s.votesGranted, voter]
  const counted = withState(s, { votesGranted })
  return [counted, hasMajority(counted)]
}
