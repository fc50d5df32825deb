/**
 * The leader's one way of sending to a follower what it lacks: AppendEntries from its nextIndex on
 * (§5.3), or, when the log no longer holds its next entry, pieces of the snapshot (§7, Figure 13).
 * Each send updates the follower's Progress through progress.ts's operations.
 */
import { send } from './effect'
import { leaderField, type StepContext } from './context'
import { encodeSnapshot } from './kv'
import { entriesFrom, lastIndex, termAt } from './log'
import { toData } from './membership'
import { becomeSnapshot, expectSnapshotOffset, holdEntries, isPaused, oldestSendLikelyLost, type Progress, type ProgressTable, recordSend, rewindForResend, withFollower } from './progress'
import type { ReplicaState } from './state'
import type { AppendEntries, NodeId } from './wire'

/**
 * Sends `peer` what it lacks from `p.nextIndex` on: entries (at most a batch), or pieces of the
 * snapshot if the log no longer holds them. Assumes they will arrive: returns the follower's
 * progress after the send.
 */
export const sendToFollower = (s: ReplicaState, ctx: StepContext, peer: NodeId, p: Progress): Progress => {
  // An earlier send still unanswered after a retransmission interval was most likely lost (answers
  // take milliseconds): start from the last entry known to match, or the follower would have to
  // reject this one for the gap and wait a round trip for the entries it lacks.
  const from = oldestSendLikelyLost(p, ctx.now, s.settings.timing) ? rewindForResend(p) : p
  const nextIndex = from.nextIndex
  const log = s.persistent.log
  // §7: "the leader must occasionally send snapshots to followers that lag behind".
  if (nextIndex <= log.snapshotIndex) return sendSnapshotPieces(s, ctx, peer, from, p.snapshotOffset, 'resend')
  const prevLogIndex = nextIndex - 1
  const entries = entriesFrom(log, nextIndex, s.settings.limits.maxEntriesPerAppend)
  const append: AppendEntries = {
    src: s.id,
    dst: peer,
    leader: leaderField(s),
    type: 'append',
    term: s.persistent.currentTerm,
    prevLogIndex,
    prevLogTerm: termAt(log, prevLogIndex) ?? 0,
    entries,
    leaderCommit: s.commitIndex,
    sentAt: ctx.now,
  }
  ctx.effects.push(send(s.recoveredUpTo > 0 ? { ...append, recoveredUpTo: s.recoveredUpTo } : append))
  return recordSend(p, ctx.now, prevLogIndex + entries.length, s.settings.limits)
}

/** Sends each of `peers` what it lacks from its nextIndex on (sendToFollower); returns the leader's new progress table. */
export const sendToFollowers = (s: ReplicaState, ctx: StepContext, peers: readonly NodeId[]): ProgressTable => {
  let progress = s.progress
  for (const peer of peers) {
    const p = progress[peer]
    if (p !== undefined) progress = withFollower(progress, peer, sendToFollower(s, ctx, peer, p))
  }
  return progress
}

/**
 * New entries for each of `peers`: sent at once to a follower that is not paused, held for the
 * answer where it is (progress.ts, isPaused). Returns the leader's new progress table.
 */
export const offerNewEntries = (s: ReplicaState, ctx: StepContext, peers: readonly NodeId[]): ProgressTable => {
  let progress = s.progress
  for (const peer of peers) {
    const p = progress[peer]
    if (p === undefined) continue
    const after = isPaused(p, ctx.now, s.settings, s.peers.length) ? holdEntries(p) : sendToFollower(s, ctx, peer, p)
    progress = withFollower(progress, peer, after)
  }
  return progress
}

/** After an answer from `peer`: the entries held back for it go now, unless it is still paused. */
export const sendWaitingEntries = (s: ReplicaState, ctx: StepContext, peer: NodeId, p: Progress): Progress =>
  p.entriesWaiting && !isPaused(p, ctx.now, s.settings, s.peers.length) && p.nextIndex <= lastIndex(s.persistent.log)
    ? sendToFollower(s, ctx, peer, p)
    : p

/**
 * How a leader sends pieces of its snapshot: `continue` past the pieces already sent; `resend` the
 * window from the offset the follower expects (the tick, while a transfer waits); `rewind` to that
 * offset because an answer showed a piece lost, which starts a new window: answers to the pieces
 * sent before it are stale from then on, so that their duplicates cannot start a second stream.
 */
export type SnapshotSend = 'continue' | 'resend' | 'rewind'

/**
 * Leader: pieces of its snapshot to a follower whose next entry the log no longer holds. The
 * follower takes pieces in order only and says which offset it expects next (`expected`); the
 * leader keeps up to `snapshotPiecesInFlight` pieces on their way past it, so that a transfer takes
 * a round trip per window of pieces rather than per piece.
 */
export const sendSnapshotPieces = (
  s: ReplicaState,
  ctx: StepContext,
  peer: NodeId,
  p: Progress,
  expected: number,
  how: SnapshotSend,
): Progress => {
  const data = encodeSnapshot(s.persistent.snapshot)
  const chunk = s.settings.limits.snapshotChunkChars
  const acked = expected <= data.length ? expected : 0
  const windowEnd = acked + s.settings.limits.snapshotPiecesInFlight * chunk
  const first = how === 'continue' ? Math.max(acked, p.snapshotSentUpTo) : acked
  let sentUpTo = first
  // An empty snapshot is still one (empty) piece.
  for (let from = first; from < windowEnd && (from < data.length || (from === 0 && data.length === 0)); from += chunk) {
    const piece = data.slice(from, from + chunk)
    const done = from + piece.length >= data.length
    ctx.effects.push(
      send({
        src: s.id,
        dst: peer,
        leader: leaderField(s),
        type: 'snapshot',
        term: s.persistent.currentTerm,
        lastIncludedIndex: s.persistent.log.snapshotIndex,
        lastIncludedTerm: s.persistent.log.snapshotTerm,
        offset: from,
        data: piece,
        done,
        sentAt: ctx.now,
        ...(s.persistent.snapshotConfiguration === undefined ? {} : { configuration: toData(s.persistent.snapshotConfiguration) }),
        ...(done && s.recoveredUpTo > 0 ? { recoveredUpTo: s.recoveredUpTo } : {}),
      }),
    )
    sentUpTo = from + Math.max(piece.length, 1)
  }
  if (sentUpTo === first) return expectSnapshotOffset(p, acked)
  const keepsTime = p.mode === 'snapshot' && (how === 'continue' || (how === 'resend' && acked === p.snapshotOffset))
  return becomeSnapshot(p, acked, sentUpTo, keepsTime ? p.snapshotSentAt : ctx.now, ctx.now)
}
