/**
 * Where a replica keeps Figure 2's persistent state. `step` says what to store as a persist effect,
 * first among a step's effects; the runtime stores it before it sends anything of that step.
 *
 * The in-memory store is the default: the course's simulator never restarts a replica (and deletes
 * files named after replica IDs). The store on disk (disk-storage.ts) is for replicas that restart
 * (`--data DIR` or RAFTKV_DATA).
 */
import * as O from 'fp-ts/Option'
import type { HardState, LogWrite } from '../effects/effect'
import { emptyLog } from '../domain/log'
import { persistentState, type PersistentState } from '../domain/state'
import type { Entry, NodeId } from '../domain/wire'

/**
 * The writes could not be made durable (a full disk, a failed fsync). The replica must stop: going
 * on would answer from state that a restart may not find.
 */
export class StorageFailure extends Error {}

export interface Storage {
  /** Stores a step's writes; returns once they are durable, throws StorageFailure when they cannot be. */
  persist(hardState: HardState | undefined, log: LogWrite | undefined): void
  /** What is stored now: what a restarted replica would recover. */
  recover(): PersistentState
  /** Lets go of files; what was persisted stays stored. */
  close(): void
}

export class MemoryStorage implements Storage {
  private currentTerm = 0
  private votedFor: O.Option<NodeId> = O.none
  /** Index 0 holds the log's sentinel, as in the replica's own log. */
  private readonly log: Entry[] = [...emptyLog]

  persist(hardState: HardState | undefined, log: LogWrite | undefined): void {
    if (hardState !== undefined) {
      this.currentTerm = hardState.currentTerm
      this.votedFor = hardState.votedFor
    }
    if (log !== undefined) {
      this.log.length = log.from
      for (const entry of log.entries) this.log.push(entry)
    }
  }

  recover(): PersistentState {
    return persistentState({ currentTerm: this.currentTerm, votedFor: this.votedFor, log: [...this.log] })
  }

  close(): void {}
}
