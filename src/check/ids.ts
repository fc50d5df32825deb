/** Replica and client IDs as the protocol spells them: four upper-case hex digits. */
import type { NodeId } from '../domain/wire'

export const hexId = (n: number): NodeId => n.toString(16).toUpperCase().padStart(4, '0') as NodeId

/** Replicas are 0000, 0001, ... */
export const replicaIds = (count: number): NodeId[] => Array.from({ length: count }, (_, i) => hexId(i))

/** Clients are counted on from replicas + 16. */
export const clientIds = (replicas: number, count: number): NodeId[] =>
  Array.from({ length: count }, (_, i) => hexId(replicas + 16 + i))

export const BROADCAST_ID = 'FFFF'
