/**
 * The leader's new entries: which followers get them at once, and when its tick comes next (sooner
 * while lost entries are repaired fast). Client requests (client-requests.ts) and taking office
 * (leader.ts) append entries; this sends them.
 */
import { setTimer } from './effect'
import type { StepContext } from './context'
import { chooseFanout, firstRoundCommitUnlikely } from './fanout'
import { lastIndex } from './log'
import { majority } from './quorum'
import { offerNewEntries } from './send-to-follower'
import { clusterSize, type ReplicaState } from './state'

/**
 * Whether lost datagrams should be repaired fast: an entry waits to commit, and the network loses
 * so much that a first-round commit is unlikely even with every responsive follower asked. On a
 * network that loses little, the rare repair waits for the tick and costs no extra datagrams.
 */
export const repairFast = (s: ReplicaState): boolean =>
  s.commitIndex < lastIndex(s.persistent.log) &&
  firstRoundCommitUnlikely(s.progress, majority(clusterSize(s)) - 1, s.settings)

/** The leader's tick comes sooner while lost entries are being repaired fast. */
export const nextTickMs = (s: ReplicaState): number =>
  repairFast(s) ? s.settings.timing.retransmitMs : s.settings.timing.heartbeatMs / 2

/** Arms the leader's tick (heartbeats, retransmissions, check-quorum) `afterMs` from now. */
export const armTick = (s: ReplicaState, ctx: StepContext, afterMs: number): ReplicaState => {
  ctx.effects.push(setTimer('heartbeat', afterMs))
  return { ...s, tickDueAt: ctx.now + afterMs }
}

/** New entries (if `s`'s log has any that `before`'s had not) go at once to as many followers as a likely first-round commit needs. */
export const replicateNewEntries = (before: ReplicaState, ctx: StepContext, s: ReplicaState): ReplicaState => {
  if (s.persistent.log === before.persistent.log) return s
  const need = majority(clusterSize(s)) - 1
  const sent: ReplicaState = { ...s, progress: offerNewEntries(s, ctx, chooseFanout(s.progress, need, s.settings)) }
  // Bring the tick forward if fast repair calls for it, never later: a stream of puts must not
  // postpone heartbeats and check-quorum.
  const tickMs = nextTickMs(sent)
  return ctx.now + tickMs < sent.tickDueAt ? armTick(sent, ctx, tickMs) : sent
}
