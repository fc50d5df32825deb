/**
 * Known bugs to inject into real replicas, to show that check:net finds them: each wraps the real
 * reducer or the real storage (src/domain and src/runtime stay untouched), as check:sim's mutants
 * do, and changes exactly the rule it is named after. A replica runs one only when its environment
 * names it (RAFTKV_INJECT_BUG, read by `raftkv serve`'s command line alone); the default path
 * never consults this module.
 *
 * Where each one hooks matters: `raftkv serve` steps events in batches and stores what a batch
 * changed of the persistent state, found by comparing states (domain/durability.ts), not the
 * persist effects of single steps. A bug that edited a step's persist effect would change nothing
 * there; the vote that is not stored is therefore taken out on its way to the disk.
 */
import * as O from 'fp-ts/Option'
import type { HardState, LogWrite, SnapshotWrite } from '../domain/effect'
import type { Storage } from '../runtime/storage'
import type { ReplicaState } from '../domain/state'
import { realStep, type Stepper } from '../check/stepper'

export const BUG_ENV = 'RAFTKV_INJECT_BUG'

/**
 * Thesis §6.4.1: a lease runs from when the leader *sent* the heartbeat a majority answered. This
 * one runs from when the answer *arrived*: answers that waited in the socket while the leader was
 * paused (SIGSTOP, a long GC pause) renew its lease when it wakes, although the others may have
 * elected a new leader meanwhile, and it answers gets from its old state.
 */
const leaseFromArrival: Stepper = (state, event) => {
  const [after, effects] = realStep(state, event)
  if (after.role !== 'leader' || event.kind !== 'received' || event.message.type !== 'appendReply') return [after, effects]
  const peer = event.message.src
  const progress = after.progress[peer]
  if (progress === undefined || event.message.term !== after.persistent.currentTerm) return [after, effects]
  return [{ ...after, progress: { ...after.progress, [peer]: { ...progress, ackedSentAt: event.now } } }, effects]
}

/**
 * Figure 2: votedFor is persistent state, "updated on stable storage before responding to RPCs".
 * This replica grants its vote and never stores it (its term it stores): once killed and
 * restarted in the same term, it can vote a second time, and two leaders of one term can be
 * elected. The storage drops the vote from every hard state it is handed.
 */
const voteNotStored = (inner: Storage): Storage => {
  const withoutVote = (hardState: HardState | undefined): HardState | undefined => (hardState === undefined ? undefined : { ...hardState, votedFor: O.none })
  const background = inner.persistInBackground?.bind(inner)
  return {
    persist: (hardState: HardState | undefined, log: LogWrite | undefined, snapshot?: SnapshotWrite) => inner.persist(withoutVote(hardState), log, snapshot),
    // The real cluster's runtime persists in the background where the storage can.
    ...(background === undefined ? {} : { persistInBackground: (hardState, log, snapshot, done) => background(withoutVote(hardState), log, snapshot, done) }),
    recover: () => inner.recover(),
    close: () => inner.close(),
  }
}

/**
 * Thesis §6.4: a leader answers a read only once it knows it still leads (ReadIndex's heartbeat
 * round, or a lease). This leader answers at once from its own state machine: deposed by a
 * partition and not yet aware of it, it serves stale values.
 */
const readWithoutConfirmingLeadership: Stepper = (state, event) => {
  if (state.role !== 'leader' || event.kind !== 'received' || event.message.type !== 'get') return realStep(state, event)
  // The real reducer, told that every follower has just answered: it serves the read at once.
  const confirmed = (s: ReplicaState, ackedSentAt: (peer: string) => number): ReplicaState => ({
    ...s,
    progress: Object.fromEntries(Object.entries(s.progress).map(([peer, p]) => [peer, p === undefined ? p : { ...p, ackedSentAt: ackedSentAt(peer) }])),
  })
  const [after, effects] = realStep(confirmed(state, () => event.now), event)
  // Nothing else of the leader's view changes (check-quorum still sees the real answers).
  return [confirmed(after, (peer) => state.progress[peer]?.ackedSentAt ?? Number.NEGATIVE_INFINITY), effects]
}

interface Bug {
  readonly description: string
  /** How the replicas must confirm gets for the bug to exist at all (`raftkv serve --reads`), if it matters. */
  readonly reads?: 'lease' | 'readIndex'
  /** The reducer it runs instead of the real one, if it changes a rule of the reducer. */
  readonly step?: Stepper
  /** The storage it puts around the real one, if it changes what is stored. */
  readonly storage?: (inner: Storage) => Storage
}

export const BUGS = {
  // A bug of the lease: with ReadIndex (the real cluster's default) the answers a woken leader
  // finds confirm no get that arrives after them, so the replicas read on the lease.
  'lease-outlives-pause': { description: 'the read lease counts from when a heartbeat\'s answer arrived, not from when it was sent', step: leaseFromArrival, reads: 'lease' },
  'vote-not-stored': { description: 'a vote is granted without being stored (a restarted voter can vote twice in a term)', storage: voteNotStored },
  'read-skips-quorum': { description: 'the leader answers reads without confirming it still leads (no heartbeat round, no lease)', step: readWithoutConfirmingLeadership },
} as const satisfies Record<string, Bug>

export type BugName = keyof typeof BUGS

/** How the replicas must confirm gets for this bug to exist (undefined: it does not matter). */
export const readsFor = (name: BugName): Bug['reads'] => (BUGS[name] as Bug).reads

export interface InjectedBug {
  readonly bug: BugName | undefined
  readonly step: Stepper
  readonly storage: ((inner: Storage) => Storage) | undefined
}

/** The bug a replica's environment asks for: none unless it names one (an unknown name is an error). */
export const bugFromEnvironment = (env: NodeJS.ProcessEnv): InjectedBug => {
  const name = env[BUG_ENV]
  if (name === undefined || name === '') return { step: realStep, storage: undefined, bug: undefined }
  if (!Object.hasOwn(BUGS, name)) throw new Error(`${BUG_ENV}=${name}: no such bug (${Object.keys(BUGS).join(', ')})`)
  const bug: Bug = BUGS[name as BugName]
  return { bug: name as BugName, step: bug.step ?? realStep, storage: bug.storage }
}
