/**
 * When a leader's entries are committed, in one place: after a follower's acknowledgement
 * (replication.ts, snapshot.ts) and after the leader's own log grows (new-entries.ts), since the
 * leader's own log is one of the majority (a lone voter's is the majority).
 */
import { lastIndex, termAt } from './log'
import { quorumValueOf } from './quorum'
import { type ReplicaState, withState } from './state'

/**
 * Figure 2, leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] ≥ N, and log[N].term == currentTerm: set commitIndex = N".
 */
export const advanceCommitIndex = (s: ReplicaState): ReplicaState => {
  // Thesis ch. 4: a majority of the configuration's voters; a learner never counts, and a leader
  // removing itself does not count its own log (§4.2.2).
  const last = lastIndex(s.persistent.log)
  const n = quorumValueOf(s.configuration.voters, (voter) => (voter === s.id ? last : (s.progress[voter]?.matchIndex ?? 0)))
  // §5.4.2: only entries of the current term are committed by counting replicas.
  return n > s.commitIndex && termAt(s.persistent.log, n) === s.persistent.currentTerm ? withState(s, { commitIndex: n }) : s
}
