/**
 * Log compaction (§7): snapshots of the state machine replace the applied prefix of the log, and a
 * leader whose log no longer holds what a follower lacks sends it the snapshot instead, in pieces
 * that fit a datagram (Figure 13, InstallSnapshot).
 */
import * as E from 'fp-ts/Either'
import { log, send } from '../effects/effect'
import { leaderField, type StepContext } from './context'
import { decodeSnapshot, encodeSnapshot } from './kv'
import { compactLog, lastIndex, logAfterInstalledSnapshot } from './log'
import { noSnapshotTransfer } from './progress'
import { advanceCommitIndex, hearFromLeader, sendAppends } from './replication'
import { withPersistent, type Progress, type ReplicaState } from './state'
import type { InstallSnapshot, InstallSnapshotReply, NodeId } from './wire'

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
  if (s.lastApplied - from < s.tuning.snapshotEvery) return s
  const next = { compactionPoint: { index: s.lastApplied, kv: s.kv } }
  // A point at or before the log's snapshot was overtaken by an installed snapshot.
  if (point === undefined || point.index <= s.persistent.log.snapshotIndex) return { ...s, ...next }
  ctx.effects.push(log(`snapshot up to ${point.index}`))
  return {
    ...s,
    ...next,
    persistent: withPersistent(s.persistent, { log: compactLog(s.persistent.log, point.index), snapshot: point.kv }),
  }
}

/** Leader: the piece of its snapshot from `offset` on, to a follower whose next entry the log no longer holds. */
export const sendSnapshotPiece = (s: ReplicaState, ctx: StepContext, peer: NodeId, p: Progress, offset: number): Progress => {
  const data = encodeSnapshot(s.persistent.snapshot)
  const from = offset <= data.length ? offset : 0
  const piece = data.slice(from, from + s.tuning.snapshotChunkChars)
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
      done: from + piece.length >= data.length,
      sentAt: ctx.now,
    }),
  )
  // The same piece again keeps the time it was first sent (answers to any copy of it count).
  const resend = from === p.snapshotOffset && p.snapshotSentAt !== noSnapshotTransfer.snapshotSentAt
  return { ...p, snapshotOffset: from, snapshotSentAt: resend ? p.snapshotSentAt : ctx.now, lastSentAt: ctx.now }
}

/** Figure 13, InstallSnapshot receiver implementation (the term rule has been applied by the caller). */
export const onInstallSnapshot = (before: ReplicaState, ctx: StepContext, m: InstallSnapshot): ReplicaState => {
  const reply = (s: ReplicaState, nextOffset: number, installed: boolean): void => {
    ctx.effects.push(
      send({
        src: s.id,
        dst: m.src,
        leader: leaderField(s),
        type: 'snapshotReply',
        term: s.persistent.currentTerm,
        lastIncludedIndex: m.lastIncludedIndex,
        nextOffset,
        installed,
        sentAt: m.sentAt,
      }),
    )
  }
  // 1. "Reply immediately if term < currentTerm".
  if (m.term < before.persistent.currentTerm) {
    reply(before, 0, false)
    return before
  }
  const [following, heard] = hearFromLeader(before, ctx, m.src, m.term)
  const s: ReplicaState = { ...following, ...heard }
  // Everything up to the snapshot's end is applied here already: nothing to install.
  if (m.lastIncludedIndex <= s.lastApplied) {
    reply(s, 0, true)
    return { ...s, incomingSnapshot: undefined }
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
    return { ...s, incomingSnapshot: incoming }
  }
  const chunks = [...(incoming?.chunks ?? []), m.data]
  // 4. "Reply and wait for more data chunks if done is false".
  if (!m.done) {
    const next = received + m.data.length
    reply(s, next, false)
    return {
      ...s,
      incomingSnapshot: { lastIncludedIndex: m.lastIncludedIndex, lastIncludedTerm: m.lastIncludedTerm, term: m.term, chunks, received: next },
    }
  }
  const decoded = decodeSnapshot(chunks.join(''))
  if (E.isLeft(decoded)) {
    // The leader's own encoding did not decode: start the transfer again rather than install it.
    ctx.effects.push(log(`dropped a snapshot up to ${m.lastIncludedIndex}: ${decoded.left}`))
    reply(s, 0, false)
    return { ...s, incomingSnapshot: undefined }
  }
  // 5–7: keep the entries after the snapshot if our log agrees at its end, else discard the log;
  // 8. "Reset state machine using snapshot contents".
  const installed: ReplicaState = {
    ...s,
    persistent: withPersistent(s.persistent, {
      log: logAfterInstalledSnapshot(s.persistent.log, m.lastIncludedIndex, m.lastIncludedTerm),
      snapshot: decoded.right,
    }),
    kv: decoded.right,
    commitIndex: Math.max(s.commitIndex, m.lastIncludedIndex),
    lastApplied: m.lastIncludedIndex,
    compactionPoint: undefined,
    incomingSnapshot: undefined,
  }
  ctx.effects.push(log(`installed a snapshot up to ${m.lastIncludedIndex}`))
  reply(installed, 0, true)
  return installed
}

/** Leader: a follower acknowledged a piece of our snapshot, or has installed it. */
export const onInstallSnapshotReply = (s: ReplicaState, ctx: StepContext, m: InstallSnapshotReply): ReplicaState => {
  const before = s.progress[m.src]
  if (before === undefined || m.term < s.persistent.currentTerm) return s
  const acked = { ...before, ackedSentAt: Math.max(before.ackedSentAt, m.sentAt) }
  if (m.installed) {
    const matchIndex = Math.max(acked.matchIndex, m.lastIncludedIndex)
    const p: Progress = { ...acked, matchIndex, nextIndex: Math.max(acked.nextIndex, matchIndex + 1), inFlight: [], ...noSnapshotTransfer }
    const committed = advanceCommitIndex({ ...s, progress: { ...s.progress, [m.src]: p } })
    // Whatever the log holds after the snapshot follows at once.
    return matchIndex < lastIndex(committed.persistent.log)
      ? { ...committed, progress: sendAppends(committed, ctx, [m.src]) }
      : committed
  }
  if (acked.nextIndex > s.persistent.log.snapshotIndex) return { ...s, progress: { ...s.progress, [m.src]: acked } }
  // One piece is in flight at a time, and a duplicated or late answer must not start a second
  // stream of pieces: only an answer to the piece we are sending (or a resend of it) says what
  // comes next, or one that acknowledges it; a resend may leave before the answer to the last
  // copy arrives, so the time of the latest send cannot be the test.
  const current = m.lastIncludedIndex === s.persistent.log.snapshotIndex
  const answersCurrentPiece = m.sentAt >= before.snapshotSentAt
  const acknowledges = current && m.nextOffset > before.snapshotOffset
  if (!answersCurrentPiece && !acknowledges) return { ...s, progress: { ...s.progress, [m.src]: acked } }
  // The piece it expects; a reply about an older snapshot of ours starts the current one over.
  const offset = current ? m.nextOffset : 0
  return { ...s, progress: { ...s.progress, [m.src]: sendSnapshotPiece(s, ctx, m.src, acked, offset) } }
}
