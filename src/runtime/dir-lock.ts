/**
 * A replica's directory is one process's at a time. Two processes appending to the same record
 * file would interleave their writes, and each would recover a log the other never wrote: the lock
 * file `LOCK`, holding the owner's process ID, keeps the second one out.
 *
 * - Taken atomically: the process ID is written to a file of its own, which is then hard-linked as
 *   `LOCK` (a link fails if `LOCK` exists, so nobody ever sees a lock without its owner in it).
 * - A lock whose owner has died (SIGKILL, a power cut) is stale: the next replica on the directory
 *   takes it over. Only a living owner keeps the directory, the same process included.
 * - Released when the storage closes. A lock left by a process killed at once is taken over at the
 *   restart; the rare reuse of a dead owner's process ID by another program refuses the directory,
 *   with a message that names the file to remove.
 */
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { describeFsError, type StorageFs } from './storage-fs'

export const LOCK_FILE = 'LOCK'

/** Whether a process with this ID is running (on Linux, `kill(pid, 0)`). */
export type IsAlive = (pid: number) => boolean

export const processIsAlive: IsAlive = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, and is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface DirLock {
  /** Removes the lock, if it is still ours. */
  readonly release: () => void
}

/** Why a lock was not taken: a living process holds it, or the file system refused. */
export interface LockRefusal {
  readonly inUse: boolean
  readonly message: string
}

/** Takes `directory`'s lock for process `pid`. */
export const lockDirectory = (fs: StorageFs, directory: string, pid: number, isAlive: IsAlive): E.Either<LockRefusal, DirLock> => {
  const lock = path.join(directory, LOCK_FILE)
  const mine = path.join(directory, `${LOCK_FILE}.${pid}`)
  try {
    fs.writeFileSync(mine, `${pid}\n`)
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          fs.linkSync(mine, lock)
          return E.right({ release: () => releaseIfOurs(fs, lock, pid) })
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        }
        const owner = ownerOf(fs, lock)
        if (owner !== undefined && isAlive(owner)) {
          return E.left({ inUse: true, message: `${directory} is in use by process ${owner} (if no replica runs there, remove ${lock})` })
        }
        // Stale: its owner died without releasing it. (A lock without an owner in it was not
        // taken by a link; it is stale too.) Remove it, unless someone just did, and try again.
        try {
          fs.unlinkSync(lock)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        }
      }
      return E.left({ inUse: true, message: `${directory}: another process took ${lock} while a stale lock was being removed` })
    } finally {
      fs.unlinkSync(mine)
    }
  } catch (error) {
    return E.left({ inUse: false, message: `cannot lock ${directory}: ${describeFsError(error)}` })
  }
}

const ownerOf = (fs: StorageFs, lock: string): number | undefined => {
  try {
    const pid = Number.parseInt(fs.readFileSync(lock, 'utf8').trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

const releaseIfOurs = (fs: StorageFs, lock: string, pid: number): void => {
  try {
    if (ownerOf(fs, lock) === pid) fs.unlinkSync(lock)
  } catch {
    // A lock that cannot be removed is stale once this process has exited.
  }
}
