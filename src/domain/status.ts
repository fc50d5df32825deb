/**
 * What a replica says of itself to an operator (the real cluster's `GET /v1/status` and /metrics):
 * a read-only view of its state, nothing the reducer acts on.
 */
import * as O from 'fp-ts/Option'
import type { ReadStyle } from './config'
import { lastIndex } from './log'
import type { ReplicaState, Role } from './state'
import type { NodeId } from './wire'

export interface ReplicaStatus {
  readonly id: NodeId
  readonly role: Role
  readonly term: number
  /** The leader this replica knows of in its term, if any. */
  readonly leader: NodeId | undefined
  readonly commitIndex: number
  readonly appliedIndex: number
  readonly lastLogIndex: number
  readonly snapshotIndex: number
  /** The configuration this replica uses (thesis §4.1: the latest in its log): who votes, who only learns. */
  readonly voters: readonly NodeId[]
  readonly learners: readonly NodeId[]
  /** How this replica, when it leads, confirms a get (config.ts ReadStyle: `readIndex` or `lease`). */
  readonly reads: ReadStyle
  /** On the leader: each follower's matchIndex (Figure 2). */
  readonly followers: Readonly<Record<string, { readonly matchIndex: number; readonly nextIndex: number }>> | undefined
}

export const replicaStatus = (s: ReplicaState): ReplicaStatus => {
  let followers: Record<string, { matchIndex: number; nextIndex: number }> | undefined
  if (s.role === 'leader') {
    followers = {}
    for (const peer of s.peers) {
      const p = s.progress[peer]
      if (p !== undefined) followers[peer] = { matchIndex: p.matchIndex, nextIndex: p.nextIndex }
    }
  }
  return {
    id: s.id,
    role: s.role,
    term: s.persistent.currentTerm,
    leader: O.isSome(s.leader) ? s.leader.value : undefined,
    commitIndex: s.commitIndex,
    appliedIndex: s.lastApplied,
    lastLogIndex: lastIndex(s.persistent.log),
    snapshotIndex: s.persistent.log.snapshotIndex,
    voters: s.configuration.voters,
    learners: s.configuration.learners,
    reads: s.settings.reads,
    followers,
  }
}
