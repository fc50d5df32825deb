/**
 * A client request's whole life at this replica, in one place. Every MID gets exactly one reply
 * from this replica: a request is at any moment in one place only, and leaves it with its reply.
 *
 * - At a follower or candidate: redirected to the leader it knows, or held (`held`) until one is
 *   known; then redirected, or served if this replica is the leader (answerWaiting).
 * - At the leader: a get is answered once the leader knows it is still the leader (reads.ts: the
 *   lease, or ReadIndex's round of heartbeats) and waits until then (`pendingReads`); a write (a
 *   put, or the real cluster's delete or compare-and-set) enters the log, remembered as our own
 *   (`ownPuts`) until it is applied.
 * - A write that entered the log is never redirected: the leader that applies it answers it
 *   (writeApplied). If a newer leader's entries replace it, the replica that appended it forwards it
 *   to the current leader (forwardLostPuts), or appends it again should it lead again.
 * - A deposed leader holds its pending gets for the next leader (pendingReadsHeld).
 */
import * as O from 'fp-ts/Option'
import { log, send } from './effect'
import { leaderField, type StepContext } from './context'
import { hasApplied, read } from './kv'
import { appendToLog, entryAt, lastIndex, type Log } from './log'
import { replicateNewEntries } from './new-entries'
import { canServeRead, canServeReads, confirmLeadership, pendingRead } from './reads'
import { type OwnPut, type ReplicaState, withPersistent, withState } from './state'
import {
  UNKNOWN_LEADER,
  isWrite,
  type ClientRequest,
  type Entry,
  type Forward,
  type GetRequest,
  type NodeId,
  type WriteCommand,
  type WriteRequest,
} from './wire'

/** Whether `entry` is the write of MID `mid`. */
const isWriteOf = (entry: Entry | undefined, mid: string): boolean =>
  entry !== undefined && isWrite(entry.command) && entry.command.MID === mid

/** Whether the entry at `index` of `log` is the write of MID `mid`. */
export const isWriteAt = (log: Log, index: number, mid: string): boolean => isWriteOf(entryAt(log, index), mid)

/** A write request as a log command. */
export const writeCommand = (request: WriteRequest): WriteCommand => {
  switch (request.type) {
    case 'put':
      return { op: 'put', key: request.key, value: request.value, client: request.src, MID: request.MID }
    case 'delete':
      return { op: 'delete', key: request.key, client: request.src, MID: request.MID }
    case 'cas':
      return { op: 'cas', key: request.key, expected: request.expected, value: request.value, client: request.src, MID: request.MID }
  }
}

export const replyOk = (s: ReplicaState, ctx: StepContext, client: NodeId, MID: string, value?: string): void => {
  const src = s.id
  const leader = leaderField(s)
  ctx.effects.push(send(value === undefined ? { src, dst: client, leader, type: 'ok', MID } : { src, dst: client, leader, type: 'ok', MID, value }))
}

/** The answer to a compare-and-set whose comparison failed: nothing was written. */
const replyFail = (s: ReplicaState, ctx: StepContext, client: NodeId, MID: string): void => {
  ctx.effects.push(send({ src: s.id, dst: client, leader: leaderField(s), type: 'fail', MID }))
}

/** Sends a client (or an operator) to the leader, and remembers where and when (onRequestAsFollower). */
export const redirect = (s: ReplicaState, ctx: StepContext, request: { readonly src: NodeId; readonly MID: string }, leader: NodeId): ReplicaState => {
  ctx.effects.push(send({ src: s.id, dst: request.src, leader, type: 'redirect', MID: request.MID }))
  return withState(s, { lastRedirect: { ...s.lastRedirect, [request.src]: { leader, at: ctx.now } } })
}

/** A get's answer: the key's value; for a key with none, the empty value (course) or no value at all (standalone). */
const answerGet = (s: ReplicaState, ctx: StepContext, request: GetRequest): void => {
  const value = read(s.kv, request.key)
  replyOk(s, ctx, request.src, request.MID, value ?? (s.settings.clients === 'course' ? '' : undefined))
}

/** The leader clients should go to, if we know one they can reach. */
export const reachableLeader = (s: ReplicaState): O.Option<NodeId> =>
  O.isSome(s.leader) && O.isSome(s.unreachableLeader) && s.unreachableLeader.value === s.leader.value
    ? O.none
    : s.leader

/**
 * A request at a follower or candidate: redirect to the leader we know, else hold it until one is
 * known. A client retries where our redirect pointed unless that replica is dead, so a quick retry
 * that comes back to us with no leader means the leader is gone: hold instead of sending the client
 * round in circles.
 */
export const onRequestAsFollower = (s: ReplicaState, ctx: StepContext, request: ClientRequest): ReplicaState => {
  const leader = reachableLeader(s)
  if (O.isNone(leader)) return withState(s, { held: [...s.held, request] })
  const previous = s.lastRedirect[request.src]
  if (
    request.leader === UNKNOWN_LEADER &&
    previous !== undefined &&
    previous.leader === leader.value &&
    ctx.now - previous.at < s.settings.timing.quickRetryMs
  ) {
    return withState(s, { unreachableLeader: leader, held: [...s.held, request] })
  }
  return redirect(s, ctx, request, leader.value)
}

/**
 * A client request at the leader: a write enters the log; a get is answered at once if the leader
 * may (reads.ts), else it waits, and under ReadIndex the leader asks its followers to confirm it
 * still leads (thesis §6.4, "issues a new round of heartbeats").
 * Thesis §3.10: during a leadership transfer the leader takes no new requests; it holds them for
 * whoever leads next (itself again, if the transfer fails).
 */
export const onRequestAsLeader = (s: ReplicaState, ctx: StepContext, request: ClientRequest): ReplicaState => {
  if (s.duties.transfer !== undefined) return withState(s, { held: [...s.held, request] })
  if (request.type === 'get') {
    if (s.duties.readBarrier !== undefined) return readThroughLog(s, ctx, request)
    if (s.settings.reads === 'lease' && canServeReads(s, ctx.now)) {
      answerGet(s, ctx, request)
      return s
    }
    // Under ReadIndex a get waits for its round (answerWaiting answers it, in this step already if it is confirmed).
    return confirmLeadership(withState(s, { pendingReads: [...s.pendingReads, pendingRead(s, ctx.now, request)] }), ctx)
  }
  if (hasApplied(s.kv, request.MID)) {
    // A retry of a write that took effect already: its first answer was lost, went out from another
    // leader, or was never sent (a write of the log recovered at start-up, writeApplied). Either way it
    // took effect, which is what the client asks.
    replyOk(s, ctx, request.src, request.MID)
    return s
  }
  return replicateNewEntries(s, ctx, appendPuts(s, ctx, [writeCommand(request)]))
}

/**
 * A get at a leader whose lease a TimeoutNow revoked (transfer.ts): answered once a no-op appended
 * after it commits (reads.ts, canServeRead), which shows that no other leader had taken over when
 * it arrived (thesis §6.4's ReadIndex argument, with the log's round instead of a heartbeat's).
 */
const readThroughLog = (s: ReplicaState, ctx: StepContext, request: GetRequest): ReplicaState => {
  const term = s.persistent.currentTerm
  const appended = appendToLog(s.persistent.log, [{ term, command: { op: 'noop' } }])
  const waiting: ReplicaState = withState(s, {
    persistent: withPersistent(s.persistent, { log: appended }),
    pendingReads: [...s.pendingReads, { request }],
    duties: { ...s.duties, readBarrier: lastIndex(appended) },
  })
  return replicateNewEntries(s, ctx, waiting)
}

/** Writes handed over by a deposed leader that lost them (forwardLostPuts). */
export const onForward = (s: ReplicaState, ctx: StepContext, m: Forward): ReplicaState =>
  replicateNewEntries(s, ctx, appendPuts(s, ctx, m.puts))

/** Appends the writes that are neither applied nor waiting in the log already, as our own. */
const appendPuts = (s: ReplicaState, ctx: StepContext, puts: readonly WriteCommand[]): ReplicaState => {
  const term = s.persistent.currentTerm
  const entries: Entry[] = []
  let ownPuts = s.ownPuts
  for (const put of puts) {
    if (hasApplied(s.kv, put.MID) || entries.some((e) => isWriteOf(e, put.MID))) continue
    const waiting = uncommittedIndexOf(s, put.MID)
    if (waiting !== undefined) {
      // A retry of a write of the recovered log: it reached us in this life, so we answer it once applied.
      if (waiting <= s.recoveredUpTo && !ownPuts.has(put.MID)) ownPuts = ownPuts.set(put.MID, { put, index: waiting, forwardedAt: 0 })
      continue
    }
    entries.push({ term, command: put })
    ownPuts = ownPuts.set(put.MID, { put, index: lastIndex(s.persistent.log) + entries.length, forwardedAt: 0 })
  }
  if (entries.length === 0) return ownPuts === s.ownPuts ? s : withState(s, { ownPuts })
  const appended = appendToLog(s.persistent.log, entries)
  ctx.effects.push(log(`appended ${entries.length} put(s) up to ${lastIndex(appended)}`))
  return withState(s, { persistent: withPersistent(s.persistent, { log: appended }), ownPuts })
}

/** Where the put of MID `mid` waits in the log, uncommitted, if it does. */
const uncommittedIndexOf = (s: ReplicaState, mid: string): number | undefined => {
  const log = s.persistent.log
  for (let i = lastIndex(log); i > s.commitIndex; i--) {
    if (isWriteAt(log, i, mid)) return i
  }
  return undefined
}

/** Whether our own write was lost to a newer leader's entries: another entry stands where we appended it. */
const isLost = (s: ReplicaState, own: OwnPut): boolean => !isWriteAt(s.persistent.log, own.index, own.put.MID)

/** A new leader appends again the writes it had appended in an earlier term and lost since. */
export const reappendLostPuts = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  const lost: WriteCommand[] = []
  for (const [, own] of s.ownPuts.entries()) {
    if (isLost(s, own)) lost.push(own.put)
  }
  return appendPuts(s, ctx, lost)
}

/**
 * A put we appended as leader and that is no longer in our log was lost to a newer leader's
 * entries; it was never answered, so it is handed to the leader that just sent us entries, which
 * appends it unless it already has it. Sent again every few heartbeats until it is applied.
 */
export const forwardLostPuts = (s: ReplicaState, ctx: StepContext, leader: NodeId): ReplicaState =>
  forwardOwnPuts(s, ctx, [leader], (own) => isLost(s, own))

/**
 * Hands the writes of ours that `which` picks, not yet applied, to the replicas `to` (at most every
 * few heartbeats each). A leader appends a write it lacks, and takes as its own to answer one that
 * waits in its log uncommitted from an earlier life (appendPuts).
 */
export const forwardOwnPuts = (
  s: ReplicaState,
  ctx: StepContext,
  to: readonly NodeId[],
  which: (own: OwnPut) => boolean,
): ReplicaState => {
  let ownPuts = s.ownPuts
  const forwarded: WriteCommand[] = []
  for (const [mid, own] of s.ownPuts.entries()) {
    if (!which(own)) continue
    if (ctx.now - own.forwardedAt < 2 * s.settings.timing.heartbeatMs) continue
    ownPuts = ownPuts.set(mid, { ...own, forwardedAt: ctx.now })
    forwarded.push(own.put)
  }
  if (forwarded.length === 0) return s
  for (const dst of to) ctx.effects.push(send({ src: s.id, dst, leader: leaderField(s), type: 'forward', puts: forwarded }))
  return withState(s, { ownPuts })
}

/**
 * Figure 2's "apply log[lastApplied] to state machine", for the write at `index`: it is no longer our
 * own to forward, and the leader that applies it answers it. Usually that is the leader that
 * committed it; a new leader also answers the earlier terms' puts it learns are committed only in
 * office, because their leader may have died before answering. When that leader had answered, the
 * client sees a duplicate ok, which the protocol counts but allows; a put left unanswered would be
 * a failure. But a replica answers only requests that reached it in its current life: a put of the
 * log it recovered at start-up is answered only if a retry of it reached us (it is then our own);
 * a later retry gets its ok at once (onRequestAsLeader). After a whole cluster restarted, the new
 * leader so sends nothing to the previous run's long-gone clients. A put that such a leader applies
 * unanswered may have reached another replica in its current life, a deposed leader that appended
 * it (our own, still in the log): that replica answers it when it applies it as a follower, since
 * the leader's AppendEntries say which puts it leaves unanswered (leaderRecoveredUpTo).
 * `outcome`: `applied`, the store had not applied this MID before; `applied before`, it had (and
 * answered then); `refused`, a compare-and-set whose comparison failed: answered fail, and since
 * nothing was written, a retry of it is compared afresh.
 */
export const writeApplied = (
  s: ReplicaState,
  ctx: StepContext,
  ownPuts: ReplicaState['ownPuts'],
  write: WriteCommand,
  index: number,
  outcome: 'applied' | 'applied before' | 'refused',
): ReplicaState['ownPuts'] => {
  const answers =
    outcome !== 'applied before' &&
    (s.role === 'leader' ? index > s.recoveredUpTo || ownPuts.has(write.MID) : ownPuts.has(write.MID) && index <= s.leaderRecoveredUpTo)
  if (answers && outcome === 'applied') replyOk(s, ctx, write.client, write.MID)
  if (answers && outcome === 'refused') replyFail(s, ctx, write.client, write.MID)
  return ownPuts.delete(write.MID)
}

/**
 * After installing a snapshot: the writes of ours that it shows applied will not be applied here
 * entry by entry, so each is settled as writeApplied settles an applied entry, at the index where
 * we appended it: answered if the leader left the puts up to there unanswered (its recoveredUpTo,
 * on the snapshot's last piece), else left to the leader that applied it. Without this, such a
 * write would stay ours for ever: forwarded to a leader that has applied it and skips it, and
 * never answered.
 */
export const settleOwnPutsInSnapshot = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  let ownPuts = s.ownPuts
  for (const [mid, own] of s.ownPuts.entries()) {
    if (hasApplied(s.kv, mid)) ownPuts = writeApplied(s, ctx, ownPuts, own.put, own.index, 'applied')
  }
  return ownPuts === s.ownPuts ? s : withState(s, { ownPuts })
}

/** A deposed leader's pending gets never touched the log, so another leader may answer them: they are held for it. */
export const pendingReadsHeld = (s: ReplicaState): Pick<ReplicaState, 'held' | 'pendingReads'> => ({
  held: [...s.held, ...s.pendingReads.map((read) => read.request)],
  pendingReads: [],
})

/**
 * After every event: the leader serves the requests held while no leader was known (unless a
 * leadership transfer holds them, thesis §3.10), and the gets that waited to be confirmed (reads.ts) if
 * they now are; another replica redirects what it held once it knows a leader clients can reach.
 */
export const answerWaiting = (s: ReplicaState, ctx: StepContext): ReplicaState => {
  if (s.role === 'leader') {
    let served = s
    if (s.held.length > 0 && s.duties.transfer === undefined) {
      served = withState(s, { held: [] })
      for (const request of s.held) served = onRequestAsLeader(served, ctx, request)
    }
    if (served.pendingReads.length > 0) {
      // Oldest first: a get is confirmed no later than any that arrived after it.
      let answered = 0
      for (const read of served.pendingReads) {
        if (!canServeRead(served, ctx.now, read)) break
        answerGet(served, ctx, read.request)
        answered++
      }
      if (answered > 0) served = withState(served, { pendingReads: served.pendingReads.slice(answered) })
    }
    return served
  }
  const leader = reachableLeader(s)
  if (O.isNone(leader) || s.held.length === 0) return s
  let redirected: ReplicaState = withState(s, { held: [] })
  for (const request of s.held) redirected = redirect(redirected, ctx, request, leader.value)
  return redirected
}
