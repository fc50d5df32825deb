/** The step function of a pre-candidate or candidate: counting votes, yielding to a leader. */
import { onRequestAsFollower } from './clients'
import type { StepContext } from './context'
import { becomeFollower, startElection, tallyVote } from './election'
import { becomeLeader } from './leader'
import type { RaftOrClientMessage } from './messages'
import { onAppendEntries } from './replication'
import type { MutableState } from './state'
import type { RequestVoteReply } from './wire'

export const stepCandidate = (s: MutableState, ctx: StepContext, m: RaftOrClientMessage): void => {
  switch (m.type) {
    case 'append':
      return onAppendEntries(s, ctx, m)
    case 'voteReply':
      return onVoteReply(s, ctx, m)
    case 'get':
    case 'put':
      return onRequestAsFollower(s, ctx, m)
    default:
      return
  }
}

const onVoteReply = (s: MutableState, ctx: StepContext, m: RequestVoteReply): void => {
  if (m.pre) {
    if (m.granted) {
      // A pre-vote is granted for the term we would campaign in.
      if (s.role === 'preCandidate' && m.term === s.persistent.currentTerm + 1 && tallyVote(s, m.src)) {
        startElection(s, ctx)
      }
    } else if (m.term > s.persistent.currentTerm) {
      becomeFollower(s, ctx, m.term, s.leader)
    }
    return
  }
  // §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term".
  if (s.role === 'candidate' && m.term === s.persistent.currentTerm && m.granted && tallyVote(s, m.src)) {
    becomeLeader(s, ctx)
  }
}
