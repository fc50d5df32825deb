/**
 * A replica's directory is one process's at a time. Two processes appending to the same record
 * file would interleave their writes, and each would recover a log the other never wrote: the lock
 * file `LOCK`, holding the owner's process ID, keeps the second one out.
 *
 * - A process ID means something only in its PID namespace on its host, in one boot of it: Node
 *   has no flock, and `kill(pid, 0)` from another namespace (a container, `unshare -p`) or another
 *   host sharing the volume finds no such process and would call a living owner's lock stale. So
 *   the lock also records where its owner runs: the host name, the kernel's boot ID
 *   (/proc/sys/kernel/random/boot_id) and the PID namespace (/proc/self/ns/pid). A lock taken
 *   anywhere else is never taken over, whatever its process ID names here: the directory is
 *   refused with a message that says where the lock was taken and names the file to remove once
 *   no replica runs on the directory (after a reboot, for one). A lock that records none of these
 *   (written by an earlier version) is judged by its process ID alone, as that version did.
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
import * as nodeFs from 'node:fs'
import * as os from 'node:os'
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

/** Where a process runs: a process ID is its own only here. Empty where the system does not say. */
export interface LockPlace {
  readonly host: string
  readonly boot: string
  readonly pidNamespace: string
}

const readOr = (read: () => string): string => {
  try {
    return read().trim()
  } catch {
    return ''
  }
}

let ourPlace: LockPlace | undefined

/** This process's place (read once: none of it changes while the process runs). */
export const thisPlace = (): LockPlace =>
  (ourPlace ??= {
    host: os.hostname(),
    boot: readOr(() => nodeFs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    pidNamespace: readOr(() => nodeFs.readlinkSync('/proc/self/ns/pid')),
  })

/** A lock file's contents: the owner's process ID on the first line, then where it runs. */
export const lockContents = (pid: number, place: LockPlace): string =>
  `${pid}\nhost ${place.host}\nboot ${place.boot}\npidns ${place.pidNamespace}\n`

interface LockOwner {
  readonly pid: number
  /** Where it runs, field by field, as far as the file says (an earlier version's says nothing). */
  readonly place: Partial<LockPlace>
}

/** How the owner's place differs from ours ('' when it does not, as far as both say). */
const elsewhere = (theirs: Partial<LockPlace>, ours: LockPlace): string => {
  const differ = (name: string, a: string | undefined, b: string) => (a !== undefined && a !== '' && b !== '' && a !== b ? [`${name} ${a} (here ${b})`] : [])
  return [
    ...differ('host', theirs.host, ours.host),
    ...differ('boot ID', theirs.boot, ours.boot),
    ...differ('PID namespace', theirs.pidNamespace, ours.pidNamespace),
  ].join(', ')
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

/** Takes `directory`'s lock for process `pid`, running at `place`. */
export const lockDirectory = (
  fs: StorageFs,
  directory: string,
  pid: number,
  isAlive: IsAlive,
  place: LockPlace = thisPlace(),
): E.Either<LockRefusal, DirLock> => {
  const lock = path.join(directory, LOCK_FILE)
  const mine = path.join(directory, `${LOCK_FILE}.${pid}`)
  const inUse = (owner: LockOwner, file: string = lock) => {
    const where = elsewhere(owner.place, place)
    return E.left({
      inUse: true,
      message:
        where === ''
          ? `${directory} is in use by process ${owner.pid} (if no replica runs there, remove ${file})`
          : `${directory} is locked by process ${owner.pid} on ${where}: this process cannot tell whether it still runs, so it does not take the lock over (if no replica runs on this directory anywhere, remove ${file})`,
    })
  }
  // A lock taken elsewhere (another host, boot or PID namespace) is never stale to us: its ID
  // names no process we can check. Here, a lock naming a living process is in use, unless the ID
  // is ours and the lock is not: a process that got a dead one's ID back (a container's first
  // process, say) must not lock itself out.
  const living = (owner: LockOwner | undefined): boolean =>
    owner !== undefined && (elsewhere(owner.place, place) !== '' || (isAlive(owner.pid) && (owner.pid !== pid || held.has(lock))))
  try {
    fs.writeFileSync(mine, lockContents(pid, place))
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
        if (owner !== undefined && living(owner)) return inUse(owner)
        // Stale: its owner died without releasing it (a lock without an owner in it was not taken
        // by a link; it is stale too). It is removed under the guard, then linked anew.
        const guard = path.join(directory, TAKEOVER_FILE)
        try {
          fs.linkSync(mine, guard)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
          const taker = ownerOf(fs, guard)
          if (taker !== undefined && living(taker)) return inUse(taker, guard)
          return E.left({
            inUse: true,
            message: `${directory}: a takeover of its stale lock was interrupted (process ${taker?.pid ?? 'unknown'} died); if no replica runs there, remove ${guard}`,
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

/** Who holds a lock file, and where; undefined when it is gone or names no process. */
const ownerOf = (fs: StorageFs, lock: string): LockOwner | undefined => {
  try {
    const [first = '', ...lines] = fs.readFileSync(lock, 'utf8').split('\n')
    const pid = Number.parseInt(first.trim(), 10)
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
    const field = (name: string) => lines.find((line) => line.startsWith(`${name} `))?.slice(name.length + 1).trim()
    return { pid, place: { host: field('host'), boot: field('boot'), pidNamespace: field('pidns') } }
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
