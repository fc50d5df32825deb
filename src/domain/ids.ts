/**
 * How the simulator numbers replicas and clients (../shared/protocol.md): four upper-case hex
 * digits, replicas from 0000, the clients counted on from `replicas + 16`. One definition for
 * kvsim, the checkers and the tests.
 */
import * as O from 'fp-ts/Option'
import type { NodeId } from './wire'

/** The protocol's clients: 8 of them. */
export const CLIENT_COUNT = 8

/** `n` as an ID: four upper-case hex digits. */
export const hexId = (n: number): NodeId => n.toString(16).toUpperCase().padStart(4, '0') as NodeId

/** Replicas are 0000, 0001, ... */
export const replicaIds = (count: number): NodeId[] => Array.from({ length: count }, (_, i) => hexId(i))

/** Clients are counted on from `replicas + 16`. */
export const clientIds = (replicas: number, count: number = CLIENT_COUNT): NodeId[] =>
  Array.from({ length: count }, (_, i) => hexId(replicas + 16 + i))

/** Whether two optional IDs (a known leader, a vote) are both absent or name the same node. */
export const sameOptionalId = (a: O.Option<NodeId>, b: O.Option<NodeId>): boolean =>
  O.isNone(a) ? O.isNone(b) : O.isSome(b) && a.value === b.value
