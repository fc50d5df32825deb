/**
 * Log compaction (§7): snapshots of the state machine replace the applied prefix of the log, and a
 * leader whose log no longer holds what a follower lacks sends it the snapshot instead, in pieces
 * that fit a datagram (Figure 13, InstallSnapshot).
 */
import * as E from 'fp-ts/Either'
import { log, send } from './effect'
import { leaderField, type StepContext } from './context'
import { decodeSnapshot } from './kv'
import { compactLog, lastIndex, logAfterInstalledSnapshot } from './log'
import { configurationAt, fromData, lastConfigIndex } from './membership'
import { type Progress, recordAck, snapshotInstalled, withFollower } from './progress'
import { advanceCommitIndex } from './commit'
import { settleOwnPutsInSnapshot } from './client-requests'
import { hearFromLeader } from './replication'
import { sendSnapshotPieces, sendToFollowers } from './send-to-follower'
import { type ReplicaState, withPersistent, withState } from './state'
import type { InstallSnapshot, InstallSnapshotReply } from './wire'

/**
 * §7: "each server takes snapshots independently, covering just the committed entries in its log".
 * Once `snapshotEvery` entries have been applied after the last compaction point, the log is
 * compacted to that point, and the state machine now becomes the next point. The log so keeps at
 * least `snapshotEvery` applied entries, and a follower a little behind still gets entries rather
 * than a whole snapshot.
 */
export const compactIfDue = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const point = s.compactionPoint
  const from = point === undefined ? s.persistent.log.snapshotIndex : point.index
  if (s.lastApplied - from < s.settings.limits.snapshotEvery) return s
  const next = { compactionPoint: { index: s.lastApplied, kv: s.kv } }
  // A point at or before the log's snapshot was overtaken by an installed snapshot.
  if (point === undefined || point.index <= s.persistent.log.snapshotIndex) return withState(s, next)
  ctx.effects.push(log(`snapshot up to ${point.index}`))
  // Thesis §5.1: the snapshot keeps the latest configuration as of its last index, once one is in the log.
  const old = s.persistent.log
  const snapshotConfiguration =
    lastConfigIndex(old, point.index) === undefined
      ? s.persistent.snapshotConfiguration
      : configurationAt(old, s.initialConfiguration, point.index)
  return withState(s, next, {
    persistent: withPersistent(s.persistent, { log: compactLog(old, point.index), snapshot: point.kv, snapshotConfiguration }),
  })
}

const replyToSnapshot = (s: ReplicaState, ctx: StepContext, m: InstallSnapshot, nextOffset: number, installed: boolean): void => {
  ctx.effects.push(
    send({
      src: s.id,
      dst: m.src,
      leader: leaderField(s),
      type: 'snapshotReply',
      term: s.persistent.currentTerm,
      lastIncludedIndex: m.lastIncludedIndex,
      offset: m.offset,
      nextOffset,
      installed,
      sentAt: m.sentAt,
    }),
  )
}

/** Figure 13, InstallSnapshot receiver implementation 1: "Reply immediately if term < currentTerm" (step.ts applies it). */
export const rejectInstallSnapshot = (s: ReplicaState, ctx: StepContext, m: InstallSnapshot): void =>
  replyToSnapshot(s, ctx, m, 0, false)

/** Figure 13, InstallSnapshot receiver implementation 2 to 8, for a piece of our term (step.ts applies the term rule). */
export const onInstallSnapshot = (before: ReplicaState, ctx: StepContext, m: InstallSnapshot): ReplicaState => {
  const reply = (s: ReplicaState, nextOffset: number, installed: boolean): void => replyToSnapshot(s, ctx, m, nextOffset, installed)
  const [following, heard] = hearFromLeader(before, ctx, m.src, m.term)
  const s: ReplicaState = withState(following, heard)
  // Everything up to the snapshot's end is applied here already: nothing to install.
  if (m.lastIncludedIndex <= s.lastApplied) {
    reply(s, 0, true)
    return withState(s, { incomingSnapshot: undefined })
  }
  // 2. "Create new snapshot file if first chunk (offset is 0)"; 3. "Write data into snapshot file at
  // given offset": pieces are taken in order, and a piece out of order is answered with the
  // offset we expect.
  const current = s.incomingSnapshot
  const same =
    current !== undefined &&
    current.lastIncludedIndex === m.lastIncludedIndex &&
    current.lastIncludedTerm === m.lastIncludedTerm &&
    current.term === m.term
  const incoming = m.offset === 0 ? undefined : same ? current : undefined
  const received = incoming?.received ?? 0
  if (m.offset !== received) {
    reply(s, received, false)
    return withState(s, { incomingSnapshot: incoming })
  }
  const chunks = [...(incoming?.chunks ?? []), m.data]
  // 4. "Reply and wait for more data chunks if done is false".
  if (!m.done) {
    const next = received + m.data.length
    reply(s, next, false)
    return withState(s, {
      incomingSnapshot: { lastIncludedIndex: m.lastIncludedIndex, lastIncludedTerm: m.lastIncludedTerm, term: m.term, chunks, received: next },
    })
  }
  const decoded = decodeSnapshot(chunks.join(''))
  if (E.isLeft(decoded)) {
    // The leader's own encoding did not decode: start the transfer again rather than install it.
    ctx.effects.push(log(`dropped a snapshot up to ${m.lastIncludedIndex}: ${decoded.left}`))
    reply(s, 0, false)
    return withState(s, { incomingSnapshot: undefined })
  }
  // 5–7: keep the entries after the snapshot if our log agrees at its end, else discard the log;
  // 8. "Reset state machine using snapshot contents".
  const installed: ReplicaState = withState(s, {
    persistent: withPersistent(s.persistent, {
      log: logAfterInstalledSnapshot(s.persistent.log, m.lastIncludedIndex, m.lastIncludedTerm),
      snapshot: decoded.right,
      ...(m.configuration === undefined ? {} : { snapshotConfiguration: fromData(m.configuration) }),
    }),
    kv: decoded.right,
    commitIndex: Math.max(s.commitIndex, m.lastIncludedIndex),
    lastApplied: m.lastIncludedIndex,
    compactionPoint: undefined,
    incomingSnapshot: undefined,
    leaderRecoveredUpTo: m.recoveredUpTo ?? 0,
  })
  ctx.effects.push(log(`installed a snapshot up to ${m.lastIncludedIndex}`))
  reply(installed, 0, true)
  return settleOwnPutsInSnapshot(installed, ctx)
}

/** Leader: a follower acknowledged a piece of our snapshot, or has installed it (a reply of our term: step.ts). */
export const onInstallSnapshotReply = (s: ReplicaState, ctx: StepContext, m: InstallSnapshotReply): ReplicaState => {
  const before = s.progress[m.src]
  if (before === undefined) return s
  const acked = recordAck(before, m.sentAt)
  if (m.installed) {
    const p = snapshotInstalled(acked, m.lastIncludedIndex)
    const committed = advanceCommitIndex(withState(s, { progress: withFollower(s.progress, m.src, p) }))
    // Whatever the log holds after the snapshot follows at once.
    return p.matchIndex < lastIndex(committed.persistent.log)
      ? withState(committed, { progress: sendToFollowers(committed, ctx, [m.src]) })
      : committed
  }
  if (acked.nextIndex > s.persistent.log.snapshotIndex) return withState(s, { progress: withFollower(s.progress, m.src, acked) })
  const withProgress = (p: Progress): ReplicaState => withState(s, { progress: withFollower(s.progress, m.src, p) })
  // An answer to a piece sent before the current window began is stale: its duplicates must not
  // start a second stream of pieces.
  const current = m.sentAt >= before.snapshotSentAt
  // A reply about an older snapshot of ours: the current one starts over.
  if (m.lastIncludedIndex !== s.persistent.log.snapshotIndex) {
    return current ? withProgress(sendSnapshotPieces(s, ctx, m.src, acked, 0, 'rewind')) : withProgress(acked)
  }
  // The follower has more than we knew (or all we sent): the window moves on.
  if (m.nextOffset > before.snapshotOffset || m.nextOffset >= before.snapshotSentUpTo) {
    return withProgress(sendSnapshotPieces(s, ctx, m.src, acked, m.nextOffset, 'continue'))
  }
  // It got a piece past the one it expects (that one was lost), or it expects less than it did (it
  // restarted, and lost what it had received): the window goes again from what it expects. A
  // second answer to a piece it took in order says nothing new, and starts nothing.
  if (current && (m.offset > m.nextOffset || m.nextOffset < before.snapshotOffset)) {
    return withProgress(sendSnapshotPieces(s, ctx, m.src, acked, m.nextOffset, 'rewind'))
  }
  return withProgress(acked)
}
