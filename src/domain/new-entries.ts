/**
 * The leader's new entries: which followers get them at once, and when its tick comes next (sooner
 * while lost entries are repaired fast). Client requests (client-requests.ts) and taking office
 * (leader.ts) append entries; this sends them.
 */
import { advanceCommitIndex } from './commit'
import { setTimer } from './effect'
import type { StepContext } from './context'
import { chooseFanout, firstRoundCommitUnlikely } from './fanout'
import { lastIndex } from './log'
import type { Progress, ProgressTable } from './progress'
import { majority } from './quorum'
import { offerNewEntries } from './send-to-follower'
import { clusterSize, type ReplicaState, withState } from './state'
import type { NodeId } from './wire'

/** How many followers' acknowledgements a new entry needs to commit: a majority of the voters, less the leader if it votes (thesis ch. 4). */
export const followersNeeded = (s: ReplicaState): number =>
  majority(clusterSize(s)) - (s.configuration.voters.includes(s.id) ? 1 : 0)

const countOf = (progress: ProgressTable): number => {
  let count = 0
  for (const _ in progress) count++
  return count
}

/**
 * The progress of the followers that vote: learners and removed members still being told of their
 * removal (reconfiguration.ts) count for no majority, so they take no part in the fan-out's odds.
 * Without either (the course's clusters), the table itself: no allocation on a put's path.
 */
const voterProgress = (s: ReplicaState): ProgressTable => {
  if (s.configuration.learners.length === 0 && countOf(s.progress) === s.peers.length) return s.progress
  const voters: Record<string, Progress> = {}
  for (const peer of s.configuration.voters) {
    const p = s.progress[peer]
    if (p !== undefined) voters[peer] = p
  }
  return voters
}

/**
 * Whether lost datagrams should be repaired fast: an entry waits to commit, and the network loses
 * so much that a first-round commit is unlikely even with every responsive follower asked. On a
 * network that loses little, the rare repair waits for the tick and costs no extra datagrams.
 */
export const repairFast = (s: ReplicaState): boolean =>
  s.commitIndex < lastIndex(s.persistent.log) &&
  firstRoundCommitUnlikely(voterProgress(s), followersNeeded(s), s.settings)

/** The leader's tick comes sooner while lost entries are being repaired fast. */
export const nextTickMs = (s: ReplicaState): number =>
  repairFast(s) ? s.settings.timing.retransmitMs : s.settings.timing.heartbeatMs / 2

/** Arms the leader's tick (heartbeats, retransmissions, check-quorum) `afterMs` from now. */
export const armTick = (s: ReplicaState, ctx: StepContext, afterMs: number): ReplicaState => {
  ctx.effects.push(setTimer('heartbeat', afterMs))
  return withState(s, { tickDueAt: ctx.now + afterMs })
}

/**
 * New entries (if `s`'s log has any that `before`'s had not) go at once to as many voters as a likely
 * first-round commit needs, and to every learner (it must catch up to be promoted, thesis §4.2.1).
 */
export const replicateNewEntries = (before: ReplicaState, ctx: StepContext, appended: ReplicaState): ReplicaState => {
  if (appended.persistent.log === before.persistent.log) return appended
  // The leader's own log is one of the majority: a lone voter commits what it appends now.
  const s = advanceCommitIndex(appended)
  const fanout = chooseFanout(voterProgress(s), followersNeeded(s), s.settings)
  const learners = s.configuration.learners
  const to: readonly NodeId[] = learners.length === 0 ? fanout : [...fanout, ...learners.filter((id) => id !== s.id)]
  const sent: ReplicaState = withState(s, { progress: offerNewEntries(s, ctx, to) })
  // Bring the tick forward if fast repair calls for it, never later: a stream of puts must not
  // postpone heartbeats and check-quorum.
  const tickMs = nextTickMs(sent)
  return ctx.now + tickMs < sent.tickDueAt ? armTick(sent, ctx, tickMs) : sent
}
