/**
 * Linearizable gets, in one of two ways (Settings.reads). Either way the leader answers only "once
 * [it] has committed an entry of its current term" (so its state machine holds every committed
 * write, §8), and from its own state machine.
 *
 * ReadIndex (thesis §6.4, the real cluster's default): "the leader saves its current commit index
 * in a local variable readIndex", "issues a new round of heartbeats and waits for their
 * acknowledgments from a majority of the cluster", then answers once "its state machine [has
 * advanced] at least as far as the readIndex". A get is confirmed once a majority (the leader
 * counting itself) has answered an AppendEntries sent at or after the get arrived: each such
 * answer was given in this leader's term after the get arrived, so no newer leader had been elected
 * by then, nor committed anything (a replica that voted for a newer leader refuses our term). No
 * clock is compared across machines. An answer to an AppendEntries sent in the get's millisecond
 * but just before it arrived counts too: its sender refuses votes for an election timeout after
 * it (§4.2.3), so no newer leader can appear within that millisecond.
 *
 * The lease (thesis §6.4.1, the course's default), without a round of messages: a follower that
 * answered an AppendEntries sent at time t refuses votes until t + electionTimeoutMin at the
 * earliest (it heard from the leader no sooner than t), so no other leader can exist before the
 * majority-th latest such t plus the minimum election timeout. Until then the leader answers gets
 * at once. Under the course's simulator all replicas share one clock source, so no drift bound is
 * needed beyond a small margin; across machines the lease assumes bounded clock drift.
 */
import type { StepContext } from './context'
import { termAt } from './log'
import { quorumValueOf } from './quorum'
import { sendToFollowers } from './send-to-follower'
import { type PendingRead, type ReadIndexMark, type ReplicaState, withState } from './state'
import type { GetRequest } from './wire'

/**
 * The latest moment a majority of the voters is known to have heard from this leader: its own
 * clock for itself (if it votes), the newest `sentAt` each other voter answered (thesis ch. 4:
 * learners do not count).
 */
const quorumContact = (s: ReplicaState, now: number): number =>
  quorumValueOf(s.configuration.voters, (voter) => (voter === s.id ? now : (s.progress[voter]?.ackedSentAt ?? Number.NEGATIVE_INFINITY)))

/** Until when this leader may answer gets locally; -Infinity when it may not. */
export const leaseExpiry = (s: ReplicaState, now: number): number => {
  // Thesis §3.10: voters grant a transfer's campaign inside the lease (transfer.ts).
  if (s.role !== 'leader' || s.duties.readBarrier !== undefined) return Number.NEGATIVE_INFINITY
  if (termAt(s.persistent.log, s.commitIndex) !== s.persistent.currentTerm) return Number.NEGATIVE_INFINITY
  return quorumContact(s, now) + s.settings.timing.electionTimeoutMinMs - s.settings.timing.leaseMarginMs
}

export const canServeReads = (s: ReplicaState, now: number): boolean => now < leaseExpiry(s, now)

/** ReadIndex: whether a get marked `mark` is confirmed and the state machine has reached its readIndex (see above). */
const readIndexConfirmed = (s: ReplicaState, now: number, mark: ReadIndexMark): boolean =>
  s.role === 'leader' &&
  termAt(s.persistent.log, s.commitIndex) === s.persistent.currentTerm &&
  quorumContact(s, now) >= mark.since &&
  s.lastApplied >= mark.index

/**
 * Whether the leader may answer now a get waiting as `read`: under the lease, while it holds one;
 * under ReadIndex, once the get is confirmed. Once a TimeoutNow has gone (transfer.ts), voters grant
 * the target's campaign at once, inside the lease and within the millisecond ReadIndex relies on:
 * gets then wait for the no-op appended after the latest of them to commit (the read barrier).
 */
export const canServeRead = (s: ReplicaState, now: number, read: PendingRead): boolean => {
  const barrier = s.duties.readBarrier
  if (barrier !== undefined) return s.role === 'leader' && s.commitIndex >= barrier && s.lastApplied >= barrier
  return read.readIndex === undefined ? canServeReads(s, now) : readIndexConfirmed(s, now, read.readIndex)
}

/** A get as it waits at the leader: under ReadIndex, marked with when it arrived and the commit index then. */
export const pendingRead = (s: ReplicaState, now: number, request: GetRequest): PendingRead =>
  s.settings.reads === 'readIndex' ? { request, readIndex: { since: now, index: s.commitIndex } } : { request }

/**
 * ReadIndex, thesis §6.4: "the leader ... issues a new round of heartbeats": an AppendEntries
 * (with whatever entries the follower lacks) to every follower not sent one at this moment
 * already, so that gets arriving together share one round. Under the lease, nothing.
 */
export const confirmLeadership = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.settings.reads !== 'readIndex') return s
  const due = s.peers.filter((peer) => (s.progress[peer]?.lastSentAt ?? ctx.now) < ctx.now)
  return due.length === 0 ? s : withState(s, { progress: sendToFollowers(s, ctx, due) })
}

/**
 * Check-quorum: the latest moment a majority is known to have heard from this leader (or when it
 * took office, if later). A leader that has not heard from a majority for a whole maximum election
 * timeout steps down rather than hold clients' requests.
 */
export const lastQuorumContact = (s: ReplicaState, now: number): number => {
  return Math.max(s.leaderSince, quorumContact(s, now))
}
