/**
 * A replica's directory is one process's at a time. Two processes appending to the same record
 * file would interleave their writes, and each would recover a log the other never wrote: the lock
 * file `LOCK`, holding the owner's process ID, keeps the second one out.
 *
 * - Taken atomically: the process ID is written to a file of its own, which is then hard-linked as
 *   `LOCK` (a link fails if `LOCK` exists, so nobody ever sees a lock without its owner in it).
 * - A lock whose owner has died (SIGKILL, a power cut) is stale: the next replica on the directory
 *   takes it over. Only one process at a time may remove a lock, the one holding the takeover guard
 *   `LOCK.takeover` (taken by a link as well), and it removes `LOCK` only if, guard held, the lock
 *   it reads names no living process. Nobody else removes `LOCK`, and a new one is only linked where
 *   there is none, by its living owner: so a living owner's lock is never taken away, not even for a
 *   moment (moving it aside to look at it would leave a gap where a third process links its own).
 *   Only a living owner keeps the directory; the same process is refused a second lock.
 * - A guard whose process died during the microseconds of a takeover is not removed automatically
 *   (two processes removing it at once would be the same race one level down): the directory is
 *   refused with a message naming the file to remove.
 * - Released when the storage closes, if the lock file is still the one this process linked. A lock
 *   left by a process killed at once is taken over at the restart; the rare reuse of a dead owner's
 *   process ID by another program refuses the directory, with a message that names the file to
 *   remove.
 */
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { describeFsError, type StorageFs } from './storage-fs'

export const LOCK_FILE = 'LOCK'

/** Held while a stale lock is removed: see the module's comment. */
export const TAKEOVER_FILE = `${LOCK_FILE}.takeover`

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
        // by a link; it is stale too). It is removed under the guard, then linked anew.
        const guard = path.join(directory, TAKEOVER_FILE)
        try {
          fs.linkSync(mine, guard)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
          const taker = ownerOf(fs, guard)
          if (living(taker)) return inUse(taker)
          return E.left({
            inUse: true,
            message: `${directory}: a takeover of its stale lock was interrupted (process ${taker ?? 'unknown'} died); if no replica runs there, remove ${guard}`,
          })
        }
        try {
          // Read again, guard held: whatever LOCK is now, it goes only if its owner is not living.
          if (!living(ownerOf(fs, lock))) removeIfPresent(fs, lock)
        } finally {
          fs.unlinkSync(guard)
        }
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

const removeIfPresent = (fs: StorageFs, file: string): void => {
  try {
    fs.unlinkSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
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
