/**
 * Linearizable gets without a round of messages: a leader lease (thesis §6.4.1). A follower that
 * answered an AppendEntries sent at time t refuses votes until t + electionTimeoutMin at the
 * earliest (it heard from the leader no sooner than t), so no other leader can exist before the
 * majority-th latest such t plus the minimum election timeout. Until then, and once an entry of
 * its own term is committed (so its state machine holds every committed put, §8), the leader
 * answers gets from its own state machine. All replicas share one clock source, so no drift bound
 * is needed beyond a small margin.
 */
import { termAt } from './log'
import { quorumValue } from './quorum'
import type { ReplicaState } from './state'

/** The leader's own clock, and the newest `sentAt` each follower answered: one value per member. */
const contactTimes = (s: ReplicaState, now: number): number[] => [
  now,
  ...s.peers.map((peer) => s.progress[peer]?.ackedSentAt ?? Number.NEGATIVE_INFINITY),
]

/** Until when this leader may answer gets locally; -Infinity when it may not. */
export const leaseExpiry = (s: ReplicaState, now: number): number => {
  if (s.role !== 'leader') return Number.NEGATIVE_INFINITY
  if (termAt(s.persistent.log, s.commitIndex) !== s.persistent.currentTerm) return Number.NEGATIVE_INFINITY
  return quorumValue(contactTimes(s, now)) + s.settings.timing.electionTimeoutMinMs - s.settings.timing.leaseMarginMs
}

export const canServeReads = (s: ReplicaState, now: number): boolean => now < leaseExpiry(s, now)

/**
 * Check-quorum: the latest moment a majority is known to have heard from this leader (or when it
 * took office, if later). A leader that has not heard from a majority for a whole maximum election
 * timeout steps down rather than hold clients' requests.
 */
export const lastQuorumContact = (s: ReplicaState, now: number): number => {
  return Math.max(s.leaderSince, quorumValue(contactTimes(s, now)))
}
