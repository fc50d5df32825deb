/**
 * Which keys the simulation's clients use (`check:sim --workload`):
 *
 * - `own`: each client reads and writes keys of its own (a few), reading only keys it has written.
 *   The per-client rule of virtual-clients.ts (a get reads the latest put this client had acknowledged)
 *   decides every read, as the course's simulator does.
 * - `shared`: as Jepsen's lin-kv workload, every client reads and writes the same few keys at
 *   once, each write with a value never written before. Another client's put may land between a
 *   client's put and its get, so the per-client rule cannot judge a read: the linearizability
 *   checker does, over the whole history.
 */
import type { Rng } from './rng'

export type Workload = 'own' | 'shared'
export const workloads: readonly Workload[] = ['own', 'shared']

/** How many keys the shared workload's clients share. */
export const SHARED_KEYS = 3

/** The shared workload's keys, 32 characters each as the protocol's keys are. */
export const sharedKey = (n: number): string => `shared-key-${n.toString().padStart(21, '0')}`

/** The next request of the shared workload: a get with probability `getFraction`, else a put; either on one of the shared keys. */
export const sharedRequest = (rng: Rng, getFraction: number): { readonly kind: 'get' | 'put'; readonly key: string } => ({
  kind: rng.chance(getFraction) ? 'get' : 'put',
  key: sharedKey(rng.between(0, SHARED_KEYS - 1)),
})
