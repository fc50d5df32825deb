/**
 * A world of the explorer (explore.ts): the replicas, their timers, what is in flight, the clients
 * and the invariants' memory at one instant, and the path that reached it. A world is never changed;
 * a transition makes a new one.
 */
import type { ReplicaState } from '../domain/state'
import type { Message } from '../domain/wire'
import type { TimerDeadlines } from '../effects/perform'
import type { RaftInvariants } from './raft-invariants'
import type { Clients } from './virtual-clients'

export interface World {
  readonly now: number
  readonly replicas: readonly ReplicaState[]
  readonly timers: readonly TimerDeadlines[]
  /** Messages between replicas, and client requests, in flight. */
  readonly network: readonly Message[]
  readonly nextRequest: number
  readonly timerFirings: number
  readonly clients: Clients
  readonly invariants: RaftInvariants
  readonly depth: number
  readonly path: PathStep | undefined
}

/**
 * The path to a world, newest step first, sharing its prefix with its siblings' paths. Labels are
 * formatted only when a counterexample is printed (formatting every transition cost more than
 * stepping the reducer).
 */
export interface PathStep {
  readonly previous: PathStep | undefined
  readonly label: () => string
}

export const extend = (path: PathStep | undefined, label: () => string): PathStep => ({ previous: path, label })

export const pathText = (path: PathStep | undefined): string[] => {
  const out: string[] = []
  for (let p = path; p !== undefined; p = p.previous) out.push(p.label())
  return out.reverse()
}
