/** The step function of a pre-candidate or candidate: counting votes, yielding to a leader. */
import { onRequestAsFollower } from './client-requests'
import type { StepContext } from './context'
import { hasMajority, startElection, startPreVote, tallyVote } from './election'
import { becomeLeader } from './leader'
import type { RaftOrClientMessage } from './messages'
import { onAppendEntries } from './replication'
import { onInstallSnapshot } from './snapshot'
import type { ReplicaState } from './state'
import type { RequestVoteReply } from './wire'

/**
 * A campaign: the pre-vote (thesis §9.6), or with `transfer` the election a TimeoutNow asked for
 * (§3.10). A voter alone in its configuration has its majority as it asks, and wins at once.
 */
export const campaign = (s: ReplicaState, ctx: StepContext, transfer = false): ReplicaState => {
  let next = transfer ? startElection(s, ctx, true) : startPreVote(s, ctx)
  if (next.role === 'preCandidate' && hasMajority(next)) next = startElection(next, ctx)
  return next.role === 'candidate' && hasMajority(next) ? becomeLeader(next, ctx) : next
}

export const stepCandidate = (s: ReplicaState, ctx: StepContext, m: RaftOrClientMessage): ReplicaState => {
  switch (m.type) {
    case 'append':
      return onAppendEntries(s, ctx, m)
    case 'snapshot':
      return onInstallSnapshot(s, ctx, m)
    case 'voteReply':
      return onVoteReply(s, ctx, m)
    case 'get':
    case 'put':
    case 'delete':
    case 'cas':
      return onRequestAsFollower(s, ctx, m)
    default:
      return s
  }
}

/** The term rule has been applied (step.ts): a reply here is of our term, or a granted pre-vote. */
const onVoteReply = (s: ReplicaState, ctx: StepContext, m: RequestVoteReply): ReplicaState => {
  if (m.pre) {
    // Thesis §9.6: a pre-vote is granted for the term we would campaign in; only this campaign's count.
    if (!m.granted || s.role !== 'preCandidate' || m.term !== s.persistent.currentTerm + 1) return s
    const [counted, won] = tallyVote(s, m.src)
    return won ? startElection(counted, ctx) : counted
  }
  // §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term".
  if (s.role !== 'candidate' || !m.granted) return s
  const [counted, won] = tallyVote(s, m.src)
  return won ? becomeLeader(counted, ctx) : counted
}
