/**
 * check:sim's crash model: what a replica keeps through a crash (only what it asked to store), a
 * crash in the middle of a step (the effects before a random point carried out, the rest lost),
 * and Figure 2's rule that a step's writes are stored before anything that depends on them leaves.
 */
import type { Effect } from '../domain/effect'
import { encodeSnapshot } from '../domain/kv'
import { sameOptionalId } from '../domain/ids'
import { lastIndex, type Log } from '../domain/log'
import type { PersistentState, ReplicaState } from '../domain/state'
import type { PutCommand } from '../domain/wire'
import type { Rng } from './rng'

/** Figure 2: stored "before responding to RPCs": whether a datagram of the step leaves before its write. */
export const sendsBeforeStore = (effects: readonly Effect[]): boolean => {
  const persistAt = effects.findIndex((e) => e.kind === 'persist')
  return persistAt > 0 && effects.slice(0, persistAt).some((e) => e.kind === 'send')
}

/**
 * How much of a step survives: all of it, or, for a replica `crashing` in the middle of it, the
 * effects before a random point (`cut`), the rest lost. A crash before the persist effect (a write
 * not yet synced) loses the step whole (`writeLost`): nothing of it was stored or sent, so it never
 * happened, and the checks never see it (what a replica held only in memory for an instant counts
 * for nothing, a majority included). The replica restarts from before it: harmless, since nothing
 * that depended on it left.
 */
export const crashPoint = (rng: Rng, crashing: boolean, effects: readonly Effect[]): { readonly cut: number; readonly writeLost: boolean } => {
  const persistAt = effects.findIndex((e) => e.kind === 'persist')
  const cut = crashing ? rng.between(0, effects.length) : effects.length
  return { cut, writeLost: crashing && persistAt >= 0 && cut <= persistAt }
}

/** Every step stores what it changed of the persistent state: what a crash keeps must be it. Why not, if it is not. */
export const storedProblem = (id: string, stored: PersistentState, state: ReplicaState): string | undefined =>
  samePersistent(stored, state.persistent)
    ? undefined
    : `${id} crashed with term ${state.persistent.currentTerm} and ${lastIndex(state.persistent.log)} entries in memory, but stored term ${stored.currentTerm} and ${lastIndex(stored.log)} entries`

/** The puts of a log's entries: those a crashed replica may recover (virtual-clients.ts, storedAtCrash). */
export const putsOf = (log: Log): PutCommand[] => log.entries.flatMap((entry) => (entry.command.op === 'put' ? [entry.command] : []))

/** Whether two persistent states hold the same term, vote, snapshot and entries. */
const samePersistent = (a: PersistentState, b: PersistentState): boolean =>
  a.currentTerm === b.currentTerm &&
  sameOptionalId(a.votedFor, b.votedFor) &&
  a.log.snapshotIndex === b.log.snapshotIndex &&
  a.log.snapshotTerm === b.log.snapshotTerm &&
  a.log.entries.length === b.log.entries.length &&
  a.log.entries.every((entry, i) => entry.term === b.log.entries[i]!.term && JSON.stringify(entry.command) === JSON.stringify(b.log.entries[i]!.command)) &&
  encodeSnapshot(a.snapshot) === encodeSnapshot(b.snapshot)
