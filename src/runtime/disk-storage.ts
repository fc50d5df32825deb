/**
 * Figure 2's persistent state on disk: one append-only record file per replica, `DIR/<id>/raft.log`
 * (framing: record-file.ts; payloads: storage-records.ts).
 *
 * - Figure 2: persistent state is "updated on stable storage before responding to RPCs". `persist`
 *   returns only once the step's writes are synced, and the runtime sends nothing of that step
 *   before. A step's writes are one record, one write and one fdatasync (group commit per event).
 * - A write or sync that fails throws StorageFailure: the replica must stop, not go on answering
 *   from state that may not be stored (after a failed fsync the kernel may have dropped the dirty
 *   pages, so trying again proves nothing).
 * - Opening recovers what the file holds: the identity must be this replica's (data-dir.ts says by
 *   which rule), every record must check, and only a torn last record (a crash in the middle of a write, told from
 *   corruption by record-file.ts) is cut, and the cut is reported (where, how many bytes, what
 *   record). Anything else is a DataDirError: never a silent start from empty.
 * - What recovery read is made durable before the replica acts on it: the file is fsynced, and so
 *   is every directory from the replica's up to the root (a record written but not synced when the
 *   process was killed is read back from the page cache; an operating-system crash after the
 *   replica voted on it would lose it). PostgreSQL syncs its data directory before crash recovery
 *   for the same reason.
 * - Every directory `open` creates is synced, and so is the existing one it was created in; a
 *   crash before those syncs is mended at the next start, which syncs the whole chain again.
 *   Directories above the data directory that this process did not create and cannot open
 *   (EACCES) are left unsynced.
 * - The file is rewritten (a fresh file with the live state, synced, renamed over the old one, the
 *   directory synced) when it has grown well past the live state, so it stays bounded by the live
 *   state: the snapshot and the log after it (§7).
 * - What the records add up to is the domain's own rule for stored writes (durability.afterWrites),
 *   the one check:sim and the in-memory store use.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import type { HardState, LogWrite, SnapshotWrite } from '../domain/effect'
import { afterWrites } from '../domain/durability'
import { encodeSnapshot } from '../domain/kv'
import { lastIndex } from '../domain/log'
import { emptyPersistent, type PersistentState } from '../domain/state'
import type { Entry } from '../domain/wire'
import { checkIdentity, DataDirError, holdsReplica, LOG_FILE, missingDirectories, newIdentity, syncDirectories, syncDirectory, type Claim } from './data-dir'
import { frameRecord, scanRecords, type TornTail } from './record-file'
import { lockDirectory, processIsAlive, type DirLock, type IsAlive } from './dir-lock'
import { describeFsError, nodeFs, type StorageFs } from './storage-fs'
import { decodeIdentity, decodeWrite, identityPayload, RecordKind, writePayload, type Identity } from './storage-records'
import { StorageFailure, type Storage } from './storage'

const NEW_FILE_SUFFIX = '.new'

export interface CompactionPolicy {
  /** Rewrite when the file exceeds `factor` times the live state's size plus `slackBytes`. */
  readonly factor: number
  readonly slackBytes: number
}

export const defaultCompaction: CompactionPolicy = { factor: 2, slackBytes: 1 << 20 }

export interface DiskStorageOptions {
  readonly fs?: StorageFs
  readonly compaction?: CompactionPolicy
  /** Who takes the directory's lock (default: this process), and how to tell a stale lock. */
  readonly pid?: number
  readonly isAlive?: IsAlive
  /** Where recovery says what it changed in the directory (a torn tail cut); default: stderr. */
  readonly report?: (message: string) => void
}

const reportOnStderr = (message: string): void => {
  process.stderr.write(`${message}\n`)
}

export class DiskStorage implements Storage {
  private fd: number | undefined
  private fileBytes = 0
  /** About how many bytes the live state takes in a record: the snapshot and the log's entries. */
  private liveBytes = 0
  private readonly fs: StorageFs
  private readonly compaction: CompactionPolicy
  private readonly file: string
  private lock: DirLock | undefined
  /** How many times the file was rewritten since it was opened (for tests and the bench). */
  compactions = 0

  private constructor(
    private readonly directory: string,
    /** Whose file it is, as its identity record says (for a new file: as it was made). */
    readonly identity: Identity,
    /** What the file holds: the persistent state a restart recovers. */
    private state: PersistentState,
    options: DiskStorageOptions,
  ) {
    this.fs = options.fs ?? nodeFs
    this.compaction = options.compaction ?? defaultCompaction
    this.file = path.join(directory, LOG_FILE)
    this.liveBytes = liveBytesOf(state)
  }

  /**
   * Opens (or creates) `dataDir/<id>/raft.log` and recovers what it holds, holding the directory's
   * lock until `close`. Left: the directory is unusable, corrupt, another replica's or another
   * cluster's (data-dir.ts: by the claim's rule), in use by a living process, or holds no replica
   * and the claim has no bootstrap to make one with.
   */
  static open(dataDir: string, claim: Claim, options: DiskStorageOptions = {}): E.Either<DataDirError, DiskStorage> {
    const fs = options.fs ?? nodeFs
    const directory = path.join(dataDir, claim.id)
    // A claim that cannot make a replica creates nothing (the lock's check below settles a race).
    const fresh = newIdentity(directory, claim)
    if (E.isLeft(fresh) && !holdsReplica(dataDir, claim.id, fs)) return fresh
    const unusable = (what: string, error: unknown) => E.left(new DataDirError('unusable', `${what}: ${describeFsError(error)}`))

    // Whatever this start creates must be synced, up to the directory that was there.
    let mustSync = dataDir
    try {
      const missing = missingDirectories(fs, directory)
      if (missing.length > 0) mustSync = path.dirname(missing[missing.length - 1]!)
      fs.mkdirSync(directory, { recursive: true })
    } catch (error) {
      return unusable(`cannot use ${directory} as the replica's directory`, error)
    }
    const locked = lockDirectory(fs, directory, options.pid ?? process.pid, options.isAlive ?? processIsAlive)
    if (E.isLeft(locked)) return E.left(new DataDirError(locked.left.inUse ? 'inUse' : 'unusable', locked.left.message))
    const opened = DiskStorage.openLocked(directory, mustSync, claim, options)
    if (E.isLeft(opened)) locked.right.release()
    else opened.right.lock = locked.right
    return opened
  }

  /** `open`, once the directory's lock is held. */
  private static openLocked(
    directory: string,
    mustSync: string,
    claim: Claim,
    options: DiskStorageOptions,
  ): E.Either<DataDirError, DiskStorage> {
    const fs = options.fs ?? nodeFs
    const file = path.join(directory, LOG_FILE)
    const unusable = (what: string, error: unknown) => E.left(new DataDirError('unusable', `${what}: ${describeFsError(error)}`))
    let bytes: Buffer | undefined
    try {
      bytes = fs.readFileSync(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return unusable(`cannot read ${file}`, error)
    }

    if (bytes === undefined) {
      const identity = newIdentity(directory, claim)
      if (E.isLeft(identity)) return identity
      const storage = new DiskStorage(directory, identity.right, emptyPersistent, options)
      try {
        storage.rewrite()
        syncDirectories(fs, directory, mustSync)
      } catch (error) {
        storage.close()
        return unusable(`cannot create ${file}`, error)
      }
      return E.right(storage)
    }

    const replayed = replay(file, bytes, claim)
    if (E.isLeft(replayed)) return replayed
    const { identity, state, goodBytes, torn } = replayed.right
    const storage = new DiskStorage(directory, identity, state, options)
    try {
      storage.fd = fs.openSync(file, 'r+')
      if (torn !== undefined) {
        // A crash in the middle of the last write: nothing was sent that depended on it.
        fs.ftruncateSync(storage.fd, goodBytes)
        const records = torn.records === 1 ? 'one incomplete record' : 'no record'
        ;(options.report ?? reportOnStderr)(
          `${file}: cut a torn tail of ${torn.bytes} bytes at byte ${torn.offset} (${records}; ${torn.why}); kept ${goodBytes} bytes`,
        )
      }
      // Durable before anything read is acted on (a vote, an acknowledgement): see the module comment.
      fs.fsyncSync(storage.fd)
      syncDirectories(fs, directory, mustSync)
      storage.fileBytes = goodBytes
      storage.compactIfLarge()
    } catch (error) {
      storage.close()
      return unusable(`cannot write ${file}`, error)
    }
    return E.right(storage)
  }

  persist(hardState: HardState | undefined, log: LogWrite | undefined, snapshot?: SnapshotWrite): void {
    if (hardState === undefined && log === undefined && snapshot === undefined) return
    this.append(this.recordOf(hardState, log, snapshot))
    this.compactIfLarge()
  }

  /**
   * `persist` off the event loop: the record is written and synced on libuv's thread pool, and
   * `done` is called once it is durable (or with the StorageFailure). One at a time: the caller
   * waits for `done` before the next write (ReplicaRuntime's batched pipeline does).
   */
  persistInBackground(
    hardState: HardState | undefined,
    log: LogWrite | undefined,
    snapshot: SnapshotWrite | undefined,
    done: (failure?: StorageFailure) => void,
  ): void {
    if (hardState === undefined && log === undefined && snapshot === undefined) return done()
    const fd = this.fd
    if (fd === undefined) return done(new StorageFailure(`${this.file} is closed`))
    const record = this.recordOf(hardState, log, snapshot)
    const position = this.fileBytes
    this.fileBytes += record.length
    const failed = (error: unknown): void => done(new StorageFailure(`cannot store a write in ${this.file}: ${describeFsError(error)}`))
    writeWholeInBackground(fd, record, position, (error) => {
      if (error !== null) return failed(error)
      fs.fdatasync(fd, (syncError) => {
        if (syncError !== null) return failed(syncError)
        try {
          this.compactIfLarge()
        } catch (compactError) {
          return done(compactError instanceof StorageFailure ? compactError : new StorageFailure(String(compactError)))
        }
        done()
      })
    })
  }

  /** The record of a step's writes; what is stored (this.state) is from now on as after them. */
  private recordOf(hardState: HardState | undefined, log: LogWrite | undefined, snapshot: SnapshotWrite | undefined): Buffer {
    const problem = writeProblem(this.state, log, snapshot)
    if (problem !== undefined) throw new RangeError(problem)
    const record = frameRecord(RecordKind.write, writePayload({ hardState, log, snapshot }))
    const appendOnly = snapshot === undefined && log !== undefined && log.from === lastIndex(this.state.log) + 1
    this.state = afterWrites(this.state, hardState, log, snapshot)
    // An append adds its entries; anything else (a truncation, a snapshot) is counted afresh.
    if (appendOnly) this.liveBytes += entriesBytes(log.entries)
    else if (log !== undefined || snapshot !== undefined) this.liveBytes = liveBytesOf(this.state)
    return record
  }

  recover(): PersistentState {
    return this.state
  }

  /** Closes the file and lets go of the directory. */
  close(): void {
    this.closeFile()
    this.lock?.release()
    this.lock = undefined
  }

  private closeFile(): void {
    if (this.fd === undefined) return
    try {
      this.fs.closeSync(this.fd)
    } catch {
      // Closing cannot lose what was synced.
    }
    this.fd = undefined
  }

  /** The file's size in bytes, as written. */
  get bytes(): number {
    return this.fileBytes
  }

  /** One record, written whole at the end of the file and synced. */
  private append(record: Buffer): void {
    const fd = this.fd
    if (fd === undefined) throw new StorageFailure(`${this.file} is closed`)
    try {
      writeWhole(this.fs, fd, record, this.fileBytes)
      this.fs.fdatasyncSync(fd)
    } catch (error) {
      throw new StorageFailure(`cannot store a write in ${this.file}: ${describeFsError(error)}`)
    }
    this.fileBytes += record.length
  }

  private compactIfLarge(): void {
    const live = this.liveBytes + 4096
    if (this.fileBytes <= this.compaction.factor * live + this.compaction.slackBytes) return
    try {
      this.rewrite()
    } catch (error) {
      throw new StorageFailure(`cannot compact ${this.file}: ${describeFsError(error)}`)
    }
    this.compactions++
  }

  /**
   * A fresh file with the identity and the live state, synced, then renamed over the old one and
   * the directory synced: after a crash at any point the file is either the old one or the new.
   */
  private rewrite(): void {
    const next = this.file + NEW_FILE_SUFFIX
    const records = [frameRecord(RecordKind.identity, identityPayload(this.identity))]
    const { currentTerm, votedFor, log, snapshot, snapshotConfiguration } = this.state
    if (currentTerm > 0 || O.isSome(votedFor) || lastIndex(log) > 0) {
      records.push(
        frameRecord(
          RecordKind.write,
          writePayload({
            hardState: { currentTerm, votedFor },
            snapshot:
              log.snapshotIndex === 0
                ? undefined
                : { index: log.snapshotIndex, term: log.snapshotTerm, state: snapshot, configuration: snapshotConfiguration },
            log: { from: log.snapshotIndex + 1, entries: log.entries },
          }),
        ),
      )
    }
    const contents = Buffer.concat(records)
    const fd = this.fs.openSync(next, 'w')
    try {
      writeWhole(this.fs, fd, contents, 0)
      this.fs.fdatasyncSync(fd)
    } finally {
      this.fs.closeSync(fd)
    }
    this.fs.renameSync(next, this.file)
    syncDirectory(this.fs, this.directory)
    this.closeFile()
    this.fd = this.fs.openSync(this.file, 'r+')
    this.fileBytes = contents.length
  }

}

/**
 * About how many bytes entries take in a record: UTF-8 bytes, as written (a string's length counts
 * UTF-16 units, a third of the bytes of most non-Latin text).
 */
const entriesBytes = (entries: readonly Entry[]): number => {
  let bytes = 0
  for (const entry of entries) bytes += Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1
  return bytes
}

/** About how many bytes the live state takes in a record: its snapshot and its log's entries. */
const liveBytesOf = (state: PersistentState): number =>
  (state.log.snapshotIndex === 0 ? 0 : Buffer.byteLength(encodeSnapshot(state.snapshot), 'utf8')) + entriesBytes(state.log.entries)

/**
 * Why writes cannot apply to what is stored, or undefined: a log write must start after the
 * snapshot and no later than just past the stored log's end (a gap would lose entries).
 */
const writeProblem = (state: PersistentState, log: LogWrite | undefined, snapshot: SnapshotWrite | undefined): string | undefined => {
  if (log === undefined) return undefined
  const after = snapshot?.index ?? state.log.snapshotIndex
  const end = Math.max(lastIndex(state.log), after)
  if (log.from <= after || log.from > end + 1) {
    return `a log write from index ${log.from} on a log holding ${after + 1} to ${lastIndex(state.log)}`
  }
  return undefined
}

/** `writeWhole` on libuv's thread pool: `done(null)` once every byte is written. */
const writeWholeInBackground = (fd: number, bytes: Buffer, position: number, done: (error: NodeJS.ErrnoException | null) => void): void => {
  const from = (offset: number): void =>
    fs.write(fd, bytes, offset, bytes.length - offset, position + offset, (error, written) => {
      if (error !== null) return done(error)
      if (offset + written < bytes.length) return from(offset + written)
      done(null)
    })
  from(0)
}

/** writeSync may write less than asked (a disk filling up): go on until all is written. */
const writeWhole = (fs: StorageFs, fd: number, bytes: Buffer, position: number): void => {
  let done = 0
  while (done < bytes.length) {
    const written = fs.writeSync(fd, bytes, done, bytes.length - done, position + done)
    if (written <= 0) throw new Error(`wrote ${written} bytes`)
    done += written
  }
}

const corrupt = (file: string, what: string) => E.left(new DataDirError('corrupt', `${file} is corrupt: ${what}`))

/** Whose file it is and the state its records build, checked against the claim. */
const replay = (
  file: string,
  bytes: Buffer,
  claim: Claim,
): E.Either<DataDirError, { identity: Identity; state: PersistentState; goodBytes: number; torn: TornTail | undefined }> => {
  const scanned = scanRecords(bytes)
  if (E.isLeft(scanned)) return corrupt(file, scanned.left)
  const { records, goodBytes, torn } = scanned.right
  const [first, ...rest] = records
  // The file is created whole (written, synced, renamed), so its identity record is always there.
  if (first === undefined || first.kind !== RecordKind.identity) return corrupt(file, 'it does not begin with an identity record')
  const recorded = decodeIdentity(first.payload)
  if (E.isLeft(recorded)) return corrupt(file, recorded.left)
  const identity = checkIdentity(file, recorded.right, claim)
  if (E.isLeft(identity)) return identity

  let state = emptyPersistent
  for (const record of rest) {
    const where = `the record at byte ${record.offset}`
    if (record.kind !== RecordKind.write) {
      const known = record.kind === RecordKind.identity ? 'a second identity' : `of unknown kind ${record.kind}`
      return corrupt(file, `${where} is ${known}`)
    }
    const write = decodeWrite(record.payload)
    if (E.isLeft(write)) return corrupt(file, `${where}: ${write.left}`)
    const { hardState, log, snapshot } = write.right
    const problem = writeProblem(state, log, snapshot)
    if (problem !== undefined) return corrupt(file, `${where} is ${problem}`)
    state = afterWrites(state, hardState, log, snapshot)
  }
  return E.right({ identity: identity.right, state, goodBytes, torn })
}
