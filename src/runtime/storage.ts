/**
 * Where a replica keeps Figure 2's persistent state. `step` says what to store as a persist effect,
 * first among a step's effects; the runtime stores it before it sends anything of that step.
 *
 * The in-memory store is the default: the course's simulator never restarts a replica (and deletes
 * files named after replica IDs). The store on disk (disk-storage.ts) is for replicas that restart
 * (`--data DIR` or RAFTKV_DATA).
 */
import type { HardState, LogWrite, SnapshotWrite } from '../domain/effect'
import { afterWrites } from '../domain/durability'
import { emptyPersistent, withPersistent, type PersistentState } from '../domain/state'
import type { Entry } from '../domain/wire'

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
  /**
   * Optional: `persist` without waiting for the disk. Returns at once (having taken the writes as
   * stored for `recover`'s purposes) and calls `done` once they are durable, or with the
   * StorageFailure; the caller starts no other write before `done`.
   */
  persistInBackground?(
    hardState: HardState | undefined,
    log: LogWrite | undefined,
    snapshot: SnapshotWrite | undefined,
    done: (failure?: StorageFailure) => void,
  ): void
  /** What is stored now: what a restarted replica would recover. */
  recover(): PersistentState
  /** Lets go of files; what was persisted stays stored. */
  close(): void
}

/**
 * The default store. The hard state and the snapshot are stored by the domain's own rule
 * (afterWrites); the log's entries after the snapshot are kept apart in one array changed in place,
 * so that storing an append costs what it appends, not the log's length (every put's path passes
 * here twice). test/domain/persistence.test.ts holds it to afterWrites step by step.
 */
export class MemoryStorage implements Storage {
  /** What is stored, but for the log's entries (its log's entries stay empty). */
  private stored: PersistentState = emptyPersistent
  /** The stored log's entries after the snapshot: `entries[k]` is the entry at snapshotIndex + 1 + k. */
  private readonly entries: Entry[] = []

  persist(hardState: HardState | undefined, log: LogWrite | undefined, snapshot?: SnapshotWrite): void {
    if (hardState !== undefined || snapshot !== undefined) {
      const before = this.stored.log.snapshotIndex
      this.stored = afterWrites(this.stored, hardState, undefined, snapshot)
      // A snapshot drops the entries it covers and keeps the rest.
      if (snapshot !== undefined) this.entries.splice(0, Math.max(0, snapshot.index - before))
    }
    if (log !== undefined) {
      this.entries.length = Math.max(0, log.from - this.stored.log.snapshotIndex - 1)
      for (const entry of log.entries) this.entries.push(entry)
    }
  }

  recover(): PersistentState {
    return withPersistent(this.stored, { log: { ...this.stored.log, entries: [...this.entries] } })
  }

  close(): void {}
}
