/**
 * A replica's directory is one process's at a time. Two processes appending to the same record
 * file would interleave their writes, and each would recover a log the other never wrote: the lock
 * file `LOCK`, holding the owner's process ID, keeps the second one out.
 *
 * - Taken atomically: the process ID is written to a file of its own, which is then hard-linked as
 *   `LOCK` (a link fails if `LOCK` exists, so nobody ever sees a lock without its owner in it).
 * - A lock whose owner has died (SIGKILL, a power cut) is stale: the next replica on the directory
 *   takes it over. It is first moved aside (of two processes doing so at once, only one moves that
 *   file) and checked: a lock that another process took in the meantime goes back. Only a living
 *   owner keeps the directory; the same process is refused a second lock.
 * - Released when the storage closes, if the lock file is still the one this process linked. A lock
 *   left by a process killed at once is taken over at the restart; the rare reuse of a dead owner's
 *   process ID by another program refuses the directory, with a message that names the file to
 *   remove.
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

/** The locks this process holds, so that a lock naming this process's ID can be told from a previous one's. */
const held = new Set<string>()

/** Takes `directory`'s lock for process `pid`. */
export const lockDirectory = (fs: StorageFs, directory: string, pid: number, isAlive: IsAlive): E.Either<LockRefusal, DirLock> => {
  const lock = path.join(directory, LOCK_FILE)
  const mine = path.join(directory, `${LOCK_FILE}.${pid}`)
  const inUse = (owner: number) =>
    E.left({ inUse: true, message: `${directory} is in use by process ${owner} (if no replica runs there, remove ${lock})` })
  // A lock naming a living process is in use, unless the ID is ours and the lock is not: a process
  // that got a dead one's ID back (a container's first process, say) must not lock itself out.
  const living = (owner: number | undefined): owner is number =>
    owner !== undefined && isAlive(owner) && (owner !== pid || held.has(lock))
  try {
    fs.writeFileSync(mine, `${pid}\n`)
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          fs.linkSync(mine, lock)
          const inode = fs.statSync(lock).ino
          held.add(lock)
          return E.right({ release: () => release(fs, lock, inode) })
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        }
        const owner = ownerOf(fs, lock)
        if (living(owner)) return inUse(owner)
        // Stale: its owner died without releasing it (a lock without an owner in it was not taken
        // by a link; it is stale too). It is moved aside, which only one process can do, and then
        // checked: if another process had taken the lock over in the meantime, its lock goes back.
        const aside = `${lock}.stale.${pid}`
        try {
          fs.renameSync(lock, aside)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
          throw error
        }
        const moved = ownerOf(fs, aside)
        if (moved !== owner && living(moved)) {
          try {
            fs.linkSync(aside, lock)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
          }
          fs.unlinkSync(aside)
          return inUse(moved)
        }
        fs.unlinkSync(aside)
      }
      return E.left({ inUse: true, message: `${directory}: other processes kept taking ${lock} while a stale lock was being removed` })
    } finally {
      removeQuietly(fs, mine)
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

/** Removes the lock if it is still the file this process linked (compared by inode, not by reading it). */
const release = (fs: StorageFs, lock: string, inode: number): void => {
  held.delete(lock)
  try {
    if (fs.statSync(lock).ino === inode) fs.unlinkSync(lock)
  } catch {
    // Gone already, or unreachable: a lock left behind is stale once this process has exited.
  }
}

/** Our own ID file is only a step of taking the lock: failing to remove it changes nothing. */
const removeQuietly = (fs: StorageFs, file: string): void => {
  try {
    fs.unlinkSync(file)
  } catch {
    // left behind; harmless
  }
}
