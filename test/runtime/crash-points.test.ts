/**
 * Crash points: the store on disk is stopped at every point of its work, reopened, and must
 * recover either the state it last made durable or the one it was making durable, never anything
 * else (Figure 2: persistent state is "updated on stable storage before responding to RPCs"; a
 * step's writes are one record, kept whole or not at all).
 *
 * The storage's file-system calls go through a wrapper (the storage-fs.ts seam) that counts every
 * call that changes the disk (each open for writing, write, fsync, fdatasync, rename, truncate,
 * mkdir, link, unlink) and "crashes" right after the n-th: it throws, and the process that was
 * running the store is treated as dead (its descriptors closed, its lock left behind). A dry run
 * counts the points; the test then crashes at each one, in a workload of appends, a truncation, a
 * §7 snapshot and the compaction rewrite it sets off, and once more after the crash at each point:
 *
 * - process: the process is killed; what it wrote stays in the page cache (a SIGKILL);
 * - os: the machine goes down too; what was not synced is lost: the file goes back to its content
 *   at its last sync, and a rename not yet made durable by a directory sync is undone;
 * - os-torn: as os, but the unsynced bytes half reach the disk (a torn write);
 * - os-zeros: as os, but the file's unsynced bytes reach the disk as zeros (its size grew, its data
 *   did not).
 *
 * The wrapper's syncs only note what they made durable (no real fsync), so the test runs in seconds.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { afterAll, describe, expect, it } from 'vitest'
import type { HardState, LogWrite, SnapshotWrite } from '../../src/domain/effect'
import { applyCommand, emptyKv, encodeSnapshot, type KvStore } from '../../src/domain/kv'
import type { PersistentState } from '../../src/domain/state'
import type { NodeId } from '../../src/domain/wire'
import { DiskStorage, type DiskStorageOptions } from '../../src/runtime/disk-storage'
import { nodeFs, type StorageFs } from '../../src/runtime/storage-fs'
import { LOG_FILE, type FixedMembers } from '../../src/runtime/data-dir'
import { noop, putEntry } from '../domain/helpers'

const ME = '0001' as NodeId
const identity: FixedMembers = { id: ME, peers: ['0000', '0002'] as NodeId[] }
/** Rewrite as soon as the file outgrows the live state (plus the storage's 4 KiB allowance). */
const compaction = { factor: 1, slackBytes: 0 }

class Crash extends Error {}

const kvOf = (upTo: number): KvStore => {
  let kv = emptyKv
  for (let i = 2; i <= upTo; i++) kv = applyCommand(kv, { op: 'put', key: `k${i}`, value: value(i), client: '0015' as NodeId, MID: `m${i}` })
  return kv
}
const value = (i: number): string => `${'v'.repeat(700)}${i}`

/** The workload: each step is one persist, as one replica step would make it. */
const steps: { hardState?: HardState; log?: LogWrite; snapshot?: SnapshotWrite }[] = [
  { hardState: { currentTerm: 1, votedFor: O.some(ME) }, log: { from: 1, entries: [noop(1)] } },
  ...[2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ log: { from: i, entries: [putEntry(1, `k${i}`, value(i), `m${i}`)] } })),
  // Figure 2, AppendEntries step 3: a conflicting suffix replaced, in a new term.
  { hardState: { currentTerm: 2, votedFor: O.none }, log: { from: 8, entries: [noop(2)] } },
  // §7: a snapshot up to 7; the file is now far larger than the live state, and is rewritten.
  { snapshot: { index: 7, term: 1, state: kvOf(7) } },
  { log: { from: 9, entries: [putEntry(2, 'k', 'after the rewrite', 'm99')] } },
]

/** A state as plain data, to compare. */
const plain = (state: PersistentState) => ({
  currentTerm: state.currentTerm,
  votedFor: O.toNullable(state.votedFor),
  log: state.log,
  snapshot: encodeSnapshot(state.snapshot),
})

type Variant = 'process' | 'os' | 'os-torn' | 'os-zeros'
const VARIANTS: readonly Variant[] = ['process', 'os', 'os-torn', 'os-zeros']

/**
 * Node's fs, counting the calls that change the disk and crashing after the `crashAfter`-th (none:
 * a dry run). It keeps what a machine crash would leave of the log file: its content at its last
 * sync, and a rename of a new file over it until the directory is synced.
 */
class CrashingFs {
  calls: string[] = []
  crashed = false
  /** The log file's content as of its last sync (undefined: it was never made durable). */
  private durableLog: Buffer | undefined
  /** The new file's content at its last sync, renamed over the log file and not yet durable as such. */
  private durableNew: Buffer | undefined
  private pendingRename: Buffer | undefined
  private readonly paths = new Map<number, string>()
  readonly fs: StorageFs

  constructor(
    private readonly logFile: string,
    private readonly crashAfter: number | undefined,
  ) {
    const change = <A extends unknown[], R>(name: string, target: (...args: A) => string, call: (...args: A) => R) =>
      (...args: A): R => {
        if (this.crashed) throw new Crash('already crashed')
        const result = call(...args)
        this.calls.push(`${name} ${path.basename(target(...args))}`)
        if (this.calls.length === this.crashAfter) {
          this.crashed = true
          throw new Crash(`crash after ${this.calls[this.calls.length - 1]}`)
        }
        return result
      }
    const writesFile = (flags: unknown) => typeof flags === 'string' && /[wa]/.test(flags)
    const ofFd = (fd: number) => this.paths.get(fd) ?? `fd ${fd}`
    const sync = (fd: number): void => {
      const file = this.paths.get(fd)
      // A sync of the file under the name makes its data durable, not the rename that gave it the name.
      if (file === this.logFile && this.pendingRename !== undefined) this.pendingRename = fs.readFileSync(file)
      else if (file === this.logFile) this.durableLog = fs.readFileSync(file)
      else if (file === `${this.logFile}.new`) this.durableNew = fs.readFileSync(file)
      else if (file === path.dirname(this.logFile) && this.pendingRename !== undefined) {
        this.durableLog = this.pendingRename
        this.pendingRename = undefined
      }
    }
    const open = ((file: fs.PathLike, flags?: fs.OpenMode) => {
      if (this.crashed) throw new Crash('already crashed')
      const fd = nodeFs.openSync(file, flags)
      this.paths.set(fd, path.resolve(String(file)))
      // A new file: nothing of it is on the disk until it is synced.
      if (path.resolve(String(file)) === `${this.logFile}.new` && writesFile(flags)) this.durableNew = Buffer.alloc(0)
      return fd
    }) as StorageFs['openSync']
    this.fs = {
      ...nodeFs,
      openSync: ((file: fs.PathLike, flags?: fs.OpenMode) =>
        writesFile(flags) ? change('open', () => String(file), () => open(file, flags))() : open(file, flags)) as StorageFs['openSync'],
      closeSync: (fd) => {
        this.paths.delete(fd)
        nodeFs.closeSync(fd)
      },
      writeSync: change('write', (fd: number) => ofFd(fd), nodeFs.writeSync as (fd: number, ...rest: unknown[]) => number) as StorageFs['writeSync'],
      fdatasyncSync: change('fdatasync', ofFd, sync),
      fsyncSync: change('fsync', ofFd, sync),
      ftruncateSync: change('ftruncate', (fd: number) => ofFd(fd), nodeFs.ftruncateSync as (fd: number, len?: number) => void),
      renameSync: change('rename', (_from: fs.PathLike, to: fs.PathLike) => String(to), (from: fs.PathLike, to: fs.PathLike) => {
        nodeFs.renameSync(from, to)
        if (path.resolve(String(to)) === this.logFile) this.pendingRename = this.durableNew
      }),
      mkdirSync: change('mkdir', (dir: fs.PathLike) => String(dir), nodeFs.mkdirSync as (dir: fs.PathLike, options?: fs.MakeDirectoryOptions) => string | undefined) as StorageFs['mkdirSync'],
      writeFileSync: change('writeFile', (file: fs.PathOrFileDescriptor) => String(file), nodeFs.writeFileSync as (file: fs.PathOrFileDescriptor, data: string) => void) as StorageFs['writeFileSync'],
      linkSync: change('link', (_from: fs.PathLike, to: fs.PathLike) => String(to), nodeFs.linkSync),
      unlinkSync: change('unlink', (file: fs.PathLike) => String(file), nodeFs.unlinkSync),
    }
  }

  /** The dead process's descriptors go with it. */
  closeAll(): void {
    for (const fd of this.paths.keys()) nodeFs.closeSync(fd)
    this.paths.clear()
  }

  /**
   * What a machine crash leaves of the log file, in place of what the dead process left. A rename
   * not yet made durable is undone in `os`, and done in the other two (a journal may commit it
   * before the directory's sync): the name then holds what was synced of the new file.
   */
  leaveAfterMachineCrash(variant: Exclude<Variant, 'process'>): void {
    const now = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile) : undefined
    const pending = this.pendingRename !== undefined
    const renamed = pending && variant !== 'os'
    const durable = renamed ? this.pendingRename : this.durableLog
    if (durable === undefined) {
      fs.rmSync(this.logFile, { force: true })
      return
    }
    // Only the unsynced end of the file under the name can reach the disk in part.
    const sameFile = !pending || renamed
    const unsynced = sameFile && now !== undefined && now.length > durable.length && now.subarray(0, durable.length).equals(durable)
      ? now.subarray(durable.length)
      : Buffer.alloc(0)
    const tail = variant === 'os' ? Buffer.alloc(0) : variant === 'os-torn' ? unsynced.subarray(0, Math.floor(unsynced.length / 2)) : Buffer.alloc(unsynced.length)
    fs.writeFileSync(this.logFile, Buffer.concat([durable, tail]))
  }
}

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})
const newDataDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-crash-'))
  dirs.push(dir)
  return dir
}

/** Each run of the store is a process of its own: a new process ID, the earlier ones dead. */
let processId = 4_000_000
const asNewProcess = (storageFs: StorageFs): DiskStorageOptions => {
  const pid = ++processId
  return { fs: storageFs, compaction, pid, isAlive: (other) => other === pid, report: () => undefined }
}

/**
 * Runs the workload under `crashing`. Returns how far it got: the step in flight when it crashed
 * (0: while opening), whether that step's record had been synced, and the compactions it made.
 */
const runWorkload = (dataDir: string, crashing: CrashingFs) => {
  const opened = DiskStorage.open(dataDir, identity, asNewProcess(crashing.fs))
  if (E.isLeft(opened)) {
    if (!crashing.crashed) throw opened.left
    return { inFlight: 0, stepSynced: false, compactions: 0 }
  }
  const storage = opened.right
  for (const [i, step] of steps.entries()) {
    const before = crashing.calls.length
    try {
      storage.persist(step.hardState, step.log, step.snapshot)
    } catch (error) {
      if (!crashing.crashed) throw error
      // The step's record is durable once the first sync of the step has returned.
      const stepSynced = crashing.calls.slice(before).some((call) => call.startsWith('fdatasync'))
      return { inFlight: i + 1, stepSynced, compactions: storage.compactions }
    }
  }
  // Closing writes nothing: a crash there (removing the lock) leaves the last step's state.
  storage.close()
  return { inFlight: steps.length, stepSynced: true, compactions: storage.compactions }
}

/** The states the workload goes through: [0] a new store, [i] after step i. */
const expectedStates = (): ReturnType<typeof plain>[] => {
  const dir = newDataDir()
  const opened = DiskStorage.open(dir, identity, asNewProcess(nodeFs))
  if (E.isLeft(opened)) throw opened.left
  const states = [plain(opened.right.recover())]
  for (const step of steps) {
    opened.right.persist(step.hardState, step.log, step.snapshot)
    states.push(plain(opened.right.recover()))
  }
  opened.right.close()
  return states
}

describe('crash points: the store recovers the last durable state or the one being made durable', () => {
  const states = expectedStates()
  const dryDir = newDataDir()
  const dry = new CrashingFs(path.join(dryDir, ME, LOG_FILE), undefined)
  const dryRun = runWorkload(dryDir, dry)
  const points = dry.calls.length

  it('the dry run goes through every step, a compaction rewrite included, and counts its points', () => {
    expect(dryRun.inFlight).toBe(steps.length)
    expect(dryRun.compactions).toBeGreaterThan(0)
    for (const call of ['mkdir', 'write', 'fdatasync', 'fsync', 'rename', 'open']) expect(dry.calls.some((c) => c.startsWith(call))).toBe(true)
    expect(points).toBeGreaterThan(steps.length * 2)
  })

  it('at every point, in every kind of crash', () => {
    const outcomes = { before: 0, new: 0, only: 0 }
    for (let point = 1; point <= points; point++) {
      for (const variant of VARIANTS) {
        const dataDir = newDataDir()
        const logFile = path.join(dataDir, ME, LOG_FILE)
        const crashing = new CrashingFs(logFile, point)
        const { inFlight, stepSynced } = runWorkload(dataDir, crashing)
        const where = `crash after call ${point} (${crashing.calls[point - 1]}) in step ${inFlight}, ${variant}`
        expect(crashing.crashed, where).toBe(true)
        crashing.closeAll()
        if (variant !== 'process') crashing.leaveAfterMachineCrash(variant)

        // The next process (its syncs only noted too: what they do is not what this test is about).
        const restart = DiskStorage.open(dataDir, identity, asNewProcess(new CrashingFs(logFile, undefined).fs))
        if (E.isLeft(restart)) throw new Error(`${where}: ${restart.left.message}`)
        const recovered = plain(restart.right.recover())
        const allowed = inFlight === 0 ? [states[0]] : stepSynced ? [states[inFlight]] : [states[inFlight - 1], states[inFlight]]
        const match = allowed.findIndex((state) => JSON.stringify(state) === JSON.stringify(recovered))
        expect(match, `${where}: recovered term ${recovered.currentTerm}, log ${JSON.stringify(recovered.log).slice(0, 200)}`).toBeGreaterThanOrEqual(0)
        outcomes[allowed.length === 1 ? 'only' : match === 0 ? 'before' : 'new']++

        // And it goes on from there: a write after the recovery is recovered in turn.
        restart.right.persist({ currentTerm: 50, votedFor: O.none }, undefined)
        restart.right.close()
        const again = DiskStorage.open(dataDir, identity, asNewProcess(new CrashingFs(logFile, undefined).fs))
        if (E.isLeft(again)) throw new Error(`${where}, reopened after a write: ${again.left.message}`)
        expect(plain(again.right.recover()), where).toEqual({ ...recovered, currentTerm: 50, votedFor: null })
        again.right.close()
        fs.rmSync(dataDir, { recursive: true, force: true })
      }
    }
    // Where both are allowed, both happen: the crashes land on both sides of a sync.
    expect(outcomes.before).toBeGreaterThan(0)
    expect(outcomes.new).toBeGreaterThan(0)
  })
})
