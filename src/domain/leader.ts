/**
 * The leader's side: taking office, its step function (client requests and forwarded puts go to
 * client-requests.ts, replies from followers to replication.ts and snapshot.ts), and the heartbeat
 * tick with check-quorum.
 */
import * as O from 'fp-ts/Option'
import { advanceCommitIndex } from './commit'
import { cancelTimer, log } from './effect'
import { onForward, onRequestAsLeader, reappendLostPuts } from './client-requests'
import type { StepContext } from './context'
import { becomeFollower } from './election'
import { appendToLog, lastIndex } from './log'
import type { RaftOrClientMessage } from './messages'
import { armTick, nextTickMs } from './new-entries'
import { freshProgress, type Progress } from './progress'
import { lastQuorumContact } from './reads'
import { heartbeatOrRetransmit, onAppendEntriesReply } from './replication'
import { sendToFollowers } from './send-to-follower'
import { releaseIfTold } from './reconfiguration'
import { onInstallSnapshotReply } from './snapshot'
import { type ReplicaState, withPersistent, withState } from './state'
import { abortTransferIfLate, continueTransfer } from './transfer'

/**
 * §5.2/§5.3: the new leader sets every nextIndex just past its log and every matchIndex to 0; §8:
 * it appends a no-op of its term, which goes out at once as its first heartbeat. Puts it had
 * appended in an earlier term and lost since are appended again (client-requests.ts).
 */
export const becomeLeader = (candidate: ReplicaState, ctx: StepContext): ReplicaState => {
  const term = candidate.persistent.currentTerm
  const withNoop = appendToLog(candidate.persistent.log, [{ term, command: { op: 'noop' } }])
  const progress: Record<string, Progress> = {}
  for (const peer of candidate.peers) progress[peer] = freshProgress(lastIndex(withNoop))
  const s: ReplicaState = withState(candidate, {
    role: 'leader',
    leader: O.some(candidate.id),
    unreachableLeader: O.none,
    leaderSince: ctx.now,
    votesGranted: [],
    persistent: withPersistent(candidate.persistent, { log: withNoop }),
    progress,
  })
  ctx.effects.push(log(`leader in term ${term}`))
  ctx.effects.push(cancelTimer('election'), cancelTimer('voteRetry'))
  const withLost = reappendLostPuts(armTick(s, ctx, nextTickMs(s)), ctx)
  // The leader's own log is one of the majority: a lone voter commits its no-op at once.
  return advanceCommitIndex(withState(withLost, { progress: sendToFollowers(withLost, ctx, withLost.peers) }))
}

/** The leader's step function. */
export const stepLeader = (s: ReplicaState, ctx: StepContext, m: RaftOrClientMessage): ReplicaState => {
  switch (m.type) {
    case 'get':
    case 'put':
    case 'delete':
    case 'cas':
      return onRequestAsLeader(s, ctx, m)
    case 'appendReply':
      return releaseIfTold(continueTransfer(onAppendEntriesReply(s, ctx, m), ctx, m.src), m.src)
    case 'snapshotReply':
      return releaseIfTold(continueTransfer(onInstallSnapshotReply(s, ctx, m), ctx, m.src), m.src)
    case 'forward':
      return onForward(s, ctx, m)
    default:
      // Votes of a campaign we won already, and AppendEntries of our own term from nobody (Election Safety).
      return s
  }
}

/**
 * Every half heartbeat interval: step down if a majority has not been heard from for a maximum
 * election timeout (check-quorum), else heartbeat idle followers and retransmit to lagging ones.
 */
export const onHeartbeatTick = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (ctx.now - lastQuorumContact(s, ctx.now) > s.settings.timing.electionTimeoutMaxMs) {
    ctx.effects.push(log('check-quorum: no majority heard from, stepping down'))
    return becomeFollower(s, ctx, s.persistent.currentTerm, O.none)
  }
  const sent = heartbeatOrRetransmit(abortTransferIfLate(s, ctx), ctx)
  return armTick(sent, ctx, nextTickMs(sent))
}
