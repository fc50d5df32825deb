/**
 * Where a replica keeps Figure 2's persistent state. `step` says what to store as a persist effect,
 * first among a step's effects; the runtime stores it before it sends anything of that step.
 *
 * The in-memory store is the default: the course's simulator never restarts a replica (and deletes
 * files named after replica IDs). The store on disk (disk-storage.ts) is for replicas that restart
 * (`--data DIR` or RAFTKV_DATA).
 */
import type { HardState, LogWrite, SnapshotWrite } from '../effects/effect'
import { afterWrites } from '../domain/durability'
import { emptyPersistent, type PersistentState } from '../domain/state'

/**
 * The writes could not be made durable (a full disk, a failed fsync). The replica must stop: going
 * on would answer from state that a restart may not find.
 */
export class StorageFailure extends Error {}

export interface Storage {
  /**
   * Stores a step's writes (the snapshot before the log write); returns once they are durable,
   * throws StorageFailure when they cannot be.
   */
  persist(hardState: HardState | undefined, log: LogWrite | undefined, snapshot?: SnapshotWrite): void
  /** What is stored now: what a restarted replica would recover. */
  recover(): PersistentState
  /** Lets go of files; what was persisted stays stored. */
  close(): void
}

export class MemoryStorage implements Storage {
  private stored: PersistentState = emptyPersistent

  persist(hardState: HardState | undefined, log: LogWrite | undefined, snapshot?: SnapshotWrite): void {
    this.stored = afterWrites(this.stored, hardState, log, snapshot)
  }

  recover(): PersistentState {
    return this.stored
  }

  close(): void {}
}
