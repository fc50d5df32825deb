/**
 * Client requests and replies. Every MID gets exactly one reply from this replica: a request is at
 * any moment in one place only (held, pending a read, in the log as our own put), and leaves it
 * with its reply. A put that entered the log is never redirected: its answer is the ok of the
 * leader that commits it.
 */
import * as O from 'fp-ts/Option'
import { send } from '../effects/effect'
import { leaderField, type StepContext } from './context'
import { read } from './kv'
import type { ReplicaState } from './state'
import { UNKNOWN_LEADER, type ClientRequest, type GetRequest, type NodeId, type PutCommand } from './wire'

export const replyOk = (s: ReplicaState, ctx: StepContext, client: NodeId, MID: string, value?: string): void => {
  const src = s.id
  const leader = leaderField(s)
  ctx.effects.push(send(value === undefined ? { src, dst: client, leader, type: 'ok', MID } : { src, dst: client, leader, type: 'ok', MID, value }))
}

export const redirect = (s: ReplicaState, ctx: StepContext, request: ClientRequest, leader: NodeId): ReplicaState => {
  ctx.effects.push(send({ src: s.id, dst: request.src, leader, type: 'redirect', MID: request.MID }))
  return { ...s, lastRedirect: { ...s.lastRedirect, [request.src]: { leader, at: ctx.now } } }
}

/** A get's answer: the key's value; for a key with none, the empty value (course) or no value at all (standalone). */
export const answerGet = (s: ReplicaState, ctx: StepContext, request: GetRequest): void => {
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
  if (O.isNone(leader)) return { ...s, held: [...s.held, request] }
  const previous = s.lastRedirect[request.src]
  if (
    request.leader === UNKNOWN_LEADER &&
    previous !== undefined &&
    previous.leader === leader.value &&
    ctx.now - previous.at < s.settings.timing.quickRetryMs
  ) {
    return { ...s, unreachableLeader: leader, held: [...s.held, request] }
  }
  return redirect(s, ctx, request, leader.value)
}

/** A put as a log command. */
export const putCommand = (request: { src: NodeId; MID: string; key: string; value: string }): PutCommand => ({
  op: 'put',
  key: request.key,
  value: request.value,
  client: request.src,
  MID: request.MID,
})
