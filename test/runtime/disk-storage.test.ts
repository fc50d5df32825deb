/**
 * The store on disk: what is persisted is what a reopened store recovers (Figure 2: persistent state
 * survives a restart), through truncations, torn tails and compaction; a directory that is not this
 * replica's, or that cannot be read, is refused; a failed write or sync is a StorageFailure.
 */
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { afterEach, describe, expect, it } from 'vitest'
import { DiskStorage, type DiskStorageOptions } from '../../src/runtime/disk-storage'
import { DataDirError, LOG_FILE, type Claim } from '../../src/runtime/data-dir'
import { frameRecord } from '../../src/runtime/record-file'
import { lockContents, LOCK_FILE, TAKEOVER_FILE, thisPlace } from '../../src/runtime/dir-lock'
import { StorageFailure } from '../../src/runtime/storage'
import { nodeFs, type StorageFs } from '../../src/runtime/storage-fs'
import { decodeWrite } from '../../src/runtime/storage-records'
import type { NodeId } from '../../src/domain/wire'
import { applyCommand, emptyKv, encodeSnapshot, hasApplied, valuesOf, type KvStore } from '../../src/domain/kv'
import { noop, putEntry } from '../domain/helpers'

const ME = '0001' as NodeId
const PEERS = ['0002', '0000'] as NodeId[]
const identity: Claim = { id: ME, peers: PEERS }
const dirs: string[] = []
const dataDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-disk-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

const open = (dir: string, who: Claim = identity, options: DiskStorageOptions = {}): DiskStorage => {
  const opened = DiskStorage.open(dir, who, options)
  if (E.isLeft(opened)) throw opened.left
  return opened.right
}
const refusal = (dir: string, who: Claim = identity, options: DiskStorageOptions = {}): DataDirError => {
  const opened = DiskStorage.open(dir, who, options)
  if (E.isRight(opened)) {
    opened.right.close()
    throw new Error('the directory was accepted')
  }
  return opened.left
}
const fileOf = (dir: string): string => path.join(dir, ME, LOG_FILE)
const reopened = (dir: string) => {
  const storage = open(dir)
  const state = storage.recover()
  storage.close()
  // The log as an array indexed by Raft index (a no-op of term 0 at index 0), for logs without a snapshot.
  expect(state.log.snapshotIndex).toBe(0)
  return { currentTerm: state.currentTerm, votedFor: state.votedFor, log: [noop(0), ...state.log.entries] }
}

describe('DiskStorage: what is persisted is recovered', () => {
  it('a new directory recovers term 0, no vote, an empty log', () => {
    const dir = dataDir()
    open(dir).close()
    expect(reopened(dir)).toEqual({ currentTerm: 0, votedFor: O.none, log: [noop(0)] })
  })

  it('recovers the hard state and the log across reopenings, a truncating write included', () => {
    const dir = dataDir()
    const first = open(dir)
    first.persist({ currentTerm: 1, votedFor: O.some('0000' as NodeId) }, { from: 1, entries: [noop(1), putEntry(1, 'k', 'v', 'm1')] })
    first.persist(undefined, { from: 3, entries: [putEntry(1, 'k', 'w', 'm2'), putEntry(1, 'k', 'x', 'm3')] })
    first.close()
    const second = open(dir)
    // Figure 2, AppendEntries step 3: a conflicting suffix is deleted and replaced.
    second.persist({ currentTerm: 2, votedFor: O.none }, { from: 3, entries: [noop(2)] })
    second.persist(undefined, { from: 4, entries: [] })
    second.close()
    expect(reopened(dir)).toEqual({
      currentTerm: 2,
      votedFor: O.none,
      log: [noop(0), noop(1), putEntry(1, 'k', 'v', 'm1'), noop(2)],
    })
  })

  it('persists in the background (the real cluster): each write durable, in order, when done is called; a truncating write included', async () => {
    const dir = dataDir()
    const storage = open(dir)
    const inBackground = (...args: Parameters<DiskStorage['persist']>): Promise<StorageFailure | undefined> =>
      new Promise((resolve) => storage.persistInBackground(args[0], args[1], args[2], resolve))
    expect(await inBackground({ currentTerm: 1, votedFor: O.some('0000' as NodeId) }, { from: 1, entries: [noop(1), putEntry(1, 'k', 'v', 'm1')] })).toBeUndefined()
    expect(await inBackground(undefined, { from: 3, entries: [putEntry(1, 'k', 'w', 'm2')] })).toBeUndefined()
    expect(await inBackground({ currentTerm: 2, votedFor: O.none }, { from: 3, entries: [noop(2)] })).toBeUndefined()
    expect(await inBackground(undefined, undefined)).toBeUndefined()
    storage.close()
    expect(reopened(dir)).toEqual({ currentTerm: 2, votedFor: O.none, log: [noop(0), noop(1), putEntry(1, 'k', 'v', 'm1'), noop(2)] })
  })

  it('a background persist on a closed store fails with a StorageFailure', async () => {
    const storage = open(dataDir())
    storage.close()
    const failure = await new Promise<StorageFailure | undefined>((resolve) => storage.persistInBackground({ currentTerm: 1, votedFor: O.none }, undefined, undefined, resolve))
    expect(failure).toBeInstanceOf(StorageFailure)
  })

  it('writes one record per step and nothing for a step that changed nothing', () => {
    const dir = dataDir()
    const storage = open(dir)
    const before = storage.bytes
    storage.persist(undefined, undefined)
    expect(storage.bytes).toBe(before)
    storage.persist({ currentTerm: 1, votedFor: O.some(ME) }, { from: 1, entries: [noop(1)] })
    const oneRecord = storage.bytes - before
    storage.close()
    expect(fs.statSync(fileOf(dir)).size).toBe(before + oneRecord)
  })

  it('cuts a torn tail on opening, keeps every whole record, and says what it cut', () => {
    const dir = dataDir()
    const storage = open(dir)
    storage.persist({ currentTerm: 3, votedFor: O.some(ME) }, { from: 1, entries: [noop(3)] })
    storage.close()
    const good = fs.statSync(fileOf(dir)).size
    const torn = frameRecord(2, Buffer.from(JSON.stringify({ hardState: { currentTerm: 9, votedFor: null } })))
    fs.appendFileSync(fileOf(dir), torn.subarray(0, torn.length - 3))
    const reports: string[] = []
    const again = open(dir, identity, { report: (line) => reports.push(line) })
    expect(again.recover().currentTerm).toBe(3)
    again.close()
    expect(reports).toEqual([
      `${fileOf(dir)}: cut a torn tail of ${torn.length - 3} bytes at byte ${good} (one incomplete record; the record at byte ${good} claims ${torn.length - 8} bytes after its header and ${torn.length - 11} are there); kept ${good} bytes`,
    ])
    expect(reopened(dir)).toEqual({ currentTerm: 3, votedFor: O.some(ME), log: [noop(0), noop(3)] })
    expect(fs.statSync(fileOf(dir)).size).toBe(good)
  })

  it('refuses a complete last record with a flipped bit, and leaves the file as it was', () => {
    const dir = dataDir()
    const storage = open(dir)
    for (let term = 1; term <= 5; term++) storage.persist({ currentTerm: term, votedFor: O.some(ME) }, { from: term, entries: [putEntry(term, 'k', `v${term}`, `m${term}`)] })
    storage.close()
    const bytes = fs.readFileSync(fileOf(dir))
    bytes[bytes.length - 20]! ^= 0x04
    fs.writeFileSync(fileOf(dir), bytes)
    const reports: string[] = []
    const error = refusal(dir, identity, { report: (line) => reports.push(line) })
    expect(error.problem).toBe('corrupt')
    expect(error.message).toMatch(/is complete and fails its checksum, with no sector of zeros: the file is corrupt, not torn/)
    expect(reports).toEqual([])
    expect(fs.readFileSync(fileOf(dir))).toEqual(bytes)
  })

  it('compacts a file grown far past the live state, and keeps the state', () => {
    const dir = dataDir()
    const compaction = { factor: 2, slackBytes: 2_000 }
    const storage = open(dir, identity, { compaction })
    // A log rewritten again and again: the file grows, the live state does not.
    for (let term = 1; term <= 200; term++) {
      storage.persist({ currentTerm: term, votedFor: O.some(ME) }, { from: 1, entries: [noop(term), putEntry(term, 'k', `v${term}`, `m${term}`)] })
    }
    expect(storage.compactions).toBeGreaterThan(0)
    const size = fs.statSync(fileOf(dir)).size
    expect(size).toBe(storage.bytes)
    expect(size).toBeLessThan(2 * (4096 + 200) + compaction.slackBytes)
    storage.close()
    expect(fs.readdirSync(path.join(dir, ME))).toEqual([LOG_FILE])
    expect(reopened(dir)).toEqual({ currentTerm: 200, votedFor: O.some(ME), log: [noop(0), noop(200), putEntry(200, 'k', 'v200', 'm200')] })
  })
})

/** Node's fs, noting each sync (fsync or fdatasync) by the path its descriptor was opened with. */
const recordingSyncs = (base: StorageFs = nodeFs) => {
  const paths = new Map<number, string>()
  const synced: string[] = []
  const fs: StorageFs = {
    ...base,
    openSync: ((file: fs.PathLike, flags?: fs.OpenMode) => {
      const fd = base.openSync(file, flags)
      paths.set(fd, path.resolve(String(file)))
      return fd
    }) as StorageFs['openSync'],
    fsyncSync: (fd) => (base.fsyncSync(fd), synced.push(paths.get(fd)!)) && undefined,
    fdatasyncSync: (fd) => (base.fdatasyncSync(fd), synced.push(paths.get(fd)!)) && undefined,
  }
  return { fs, synced }
}

/** `directory` and every directory above it, nearest first. */
const chainOf = (directory: string): string[] => {
  const chain = [path.resolve(directory)]
  while (path.dirname(chain[chain.length - 1]!) !== chain[chain.length - 1]) chain.push(path.dirname(chain[chain.length - 1]!))
  return chain
}

describe('DiskStorage: what recovery reads is durable before it is acted on', () => {
  it('reopening syncs the file and every directory up to the root, with no torn tail to cut', () => {
    const dir = dataDir()
    const storage = open(dir)
    storage.persist({ currentTerm: 2, votedFor: O.some(ME) }, undefined)
    storage.close()
    const { fs: recording, synced } = recordingSyncs()
    open(dir, identity, { fs: recording }).close()
    expect(synced).toEqual([fileOf(dir), ...chainOf(path.join(dir, ME))])
  })

  it('a torn tail is cut, then the file and the chain are synced', () => {
    const dir = dataDir()
    open(dir).close()
    const good = fs.statSync(fileOf(dir)).size
    fs.appendFileSync(fileOf(dir), Buffer.from([90, 0, 0, 0, 1]))
    const { fs: recording, synced } = recordingSyncs()
    open(dir, identity, { fs: recording, report: () => undefined }).close()
    expect(synced).toEqual([fileOf(dir), ...chainOf(path.join(dir, ME))])
    expect(fs.statSync(fileOf(dir)).size).toBe(good)
  })

  it('a sync that fails refuses the directory', () => {
    const dir = dataDir()
    open(dir).close()
    const eio = Object.assign(new Error('i/o error'), { code: 'EIO' })
    const error = refusal(dir, identity, { fs: { ...nodeFs, fsyncSync: () => { throw eio } } })
    expect(error.problem).toBe('unusable')
    expect(error.message).toMatch(/EIO/)
  })
})

describe('DiskStorage: every directory it creates is synced, up to one that was there', () => {
  it('a data directory three levels deep: the file, the replica\'s directory, the three created and the one above them', () => {
    const base = dataDir()
    const deep = path.join(base, 'a', 'b', 'c')
    const { fs: recording, synced } = recordingSyncs()
    open(deep, identity, { fs: recording }).close()
    const created = [path.join(deep, ME), deep, path.join(base, 'a', 'b'), path.join(base, 'a')]
    for (const directory of [...created, base]) expect(synced).toContain(directory)
    // Each directory's entry is synced after the directory itself came to be: the last syncs run
    // from the replica's directory up to the root.
    expect(synced.slice(-chainOf(path.join(deep, ME)).length)).toEqual(chainOf(path.join(deep, ME)))
  })

  it('a crash before those syncs is mended at the next start', () => {
    const base = dataDir()
    const deep = path.join(base, 'a', 'b')
    // The first start dies once it has created the file, before it synced the directories above:
    // they exist, unsynced, and the next start finds a file to recover.
    const crash = Object.assign(new Error('killed'), { code: 'EIO' })
    let syncs = 0
    const dying: StorageFs = { ...nodeFs, fsyncSync: (fd) => { if (++syncs >= 2) throw crash; nodeFs.fsyncSync(fd) } }
    expect(refusal(deep, identity, { fs: dying }).problem).toBe('unusable')
    expect(fs.existsSync(path.join(deep, ME))).toBe(true)
    const { fs: recording, synced } = recordingSyncs()
    open(deep, identity, { fs: recording }).close()
    for (const directory of [path.join(deep, ME), deep, path.join(base, 'a'), base]) expect(synced).toContain(directory)
  })

  it('a directory above the data directory that cannot be opened is skipped; one this start created is not', () => {
    const base = dataDir()
    const eacces = Object.assign(new Error('permission denied'), { code: 'EACCES' })
    const denying = (denied: string): StorageFs => ({
      ...nodeFs,
      openSync: ((file: fs.PathLike, flags?: fs.OpenMode) => {
        if (path.resolve(String(file)) === denied) throw eacces
        return nodeFs.openSync(file, flags)
      }) as StorageFs['openSync'],
    })
    open(base, identity, { fs: denying(path.dirname(base)) }).close()
    const error = refusal(path.join(base, 'new'), identity, { fs: denying(base) })
    expect(error.problem).toBe('unusable')
    expect(error.message).toContain(`cannot sync the directory ${base} (EACCES)`)
  })
})

describe('DiskStorage: sizes are counted in bytes', () => {
  it('a log of non-ASCII values that only grows is never rewritten (its file is all live state)', () => {
    const dir = dataDir()
    const storage = open(dir, identity, { compaction: { factor: 2, slackBytes: 0 } })
    storage.persist({ currentTerm: 1, votedFor: O.some(ME) }, undefined)
    // 1,000 characters of three UTF-8 bytes each: 3,000 bytes, counted as 1,000 characters they
    // would make the file look three times its live state, and every append would rewrite it.
    const value = '日'.repeat(1_000)
    for (let i = 1; i <= 60; i++) storage.persist(undefined, { from: i, entries: [putEntry(1, 'k', `${value}${i}`, `m${i}`)] })
    expect(storage.compactions).toBe(0)
    storage.close()
    expect(open(dir).recover().log.entries).toHaveLength(60)
  })
})

describe('DiskStorage: a directory that is not this replica\'s, or not usable, is refused', () => {
  it('another replica ID', () => {
    const dir = dataDir()
    open(dir).close()
    fs.renameSync(path.join(dir, ME), path.join(dir, '0000'))
    const error = refusal(dir, { id: '0000' as NodeId, peers: ['0001', '0002'] as NodeId[] })
    expect(error.problem).toBe('otherReplica')
    expect(error.message).toMatch(/belongs to replica 0001, not to 0000/)
  })

  it('another cluster (other peer IDs); the order of the peers does not matter', () => {
    const dir = dataDir()
    open(dir).close()
    open(dir, { id: ME, peers: ['0000', '0002'] as NodeId[] }).close()
    const error = refusal(dir, { id: ME, peers: ['0000', '0002', '0003', '0004'] as NodeId[] })
    expect(error.problem).toBe('otherCluster')
  })

  it('a corrupt record followed by good ones', () => {
    const dir = dataDir()
    const storage = open(dir)
    for (let i = 1; i <= 3; i++) storage.persist({ currentTerm: i, votedFor: O.none }, undefined)
    storage.close()
    const bytes = fs.readFileSync(fileOf(dir))
    bytes[bytes.length - 60]! ^= 0x20
    fs.writeFileSync(fileOf(dir), bytes)
    const error = refusal(dir)
    expect(error.problem).toBe('corrupt')
    expect(error.message).toMatch(/corrupt/)
  })

  it('a file without its identity record, or with a record it cannot read', () => {
    const dir = dataDir()
    fs.mkdirSync(path.join(dir, ME))
    fs.writeFileSync(fileOf(dir), frameRecord(2, Buffer.from('{}')))
    expect(refusal(dir).problem).toBe('corrupt')
    fs.writeFileSync(fileOf(dir), Buffer.alloc(0))
    expect(refusal(dir).problem).toBe('corrupt')
    open(dataDir()).close()
    const withSnapshot = dataDir()
    open(withSnapshot).close()
    fs.appendFileSync(fileOf(withSnapshot), frameRecord(3, Buffer.from('{"index":5,"term":1,"data":""}')))
    expect(refusal(withSnapshot).message).toMatch(/unknown kind 3/)
    const badSnapshot = dataDir()
    open(badSnapshot).close()
    fs.appendFileSync(fileOf(badSnapshot), frameRecord(2, Buffer.from('{"snapshot":{"index":5,"term":1,"data":"{}"}}')))
    expect(refusal(badSnapshot)).toMatchObject({ problem: 'corrupt', message: expect.stringMatching(/snapshot has the wrong shape/) })
  })

  it('every refusal says what a person can do: replace the member rather than empty the directory', () => {
    const replace = 'remove the member and add a new one (raftkv member remove/add)'
    const corrupt = dataDir()
    open(corrupt).close()
    fs.appendFileSync(fileOf(corrupt), frameRecord(2, Buffer.from('not json')))
    expect(refusal(corrupt).message).toMatch(new RegExp(`is corrupt: .*\\n  what to do: do not empty the directory and start this replica again under the same ID .*could vote twice in a term.*; ${replace.replace(/[()/]/g, '\\$&')}`))
    const other = dataDir()
    open(other).close()
    expect(refusal(other, { id: ME, peers: ['0000'] as NodeId[] }).message).toContain(replace)
    fs.renameSync(path.join(other, ME), path.join(other, '0000'))
    expect(refusal(other, { id: '0000' as NodeId, peers: ['0001', '0002'] as NodeId[] }).message).toContain(replace)
    const asFile = dataDir()
    fs.writeFileSync(path.join(asFile, ME), 'not a directory')
    expect(refusal(asFile).message).toContain('what to do: fix what the error names')
  })

  it('a log write past the end of the log', () => {
    const dir = dataDir()
    open(dir).close()
    fs.appendFileSync(fileOf(dir), frameRecord(2, Buffer.from(JSON.stringify({ log: { from: 5, entries: [noop(1)] } }))))
    expect(refusal(dir).message).toMatch(/a log write from index 5 on a log holding 1 to 0/)
  })

  it('an unreadable directory: the replica directory is a file, the log file a directory, a read fails', () => {
    const asFile = dataDir()
    fs.writeFileSync(path.join(asFile, ME), 'not a directory')
    expect(refusal(asFile).problem).toBe('unusable')
    const logAsDir = dataDir()
    fs.mkdirSync(path.join(logAsDir, ME, LOG_FILE), { recursive: true })
    expect(refusal(logAsDir).message).toMatch(/EISDIR/)
    const denied = dataDir()
    open(denied).close()
    const eacces = Object.assign(new Error('permission denied'), { code: 'EACCES' })
    const error = refusal(denied, identity, { fs: { ...nodeFs, readFileSync: () => { throw eacces } } })
    expect(error.problem).toBe('unusable')
    expect(error.message).toMatch(/cannot read .*EACCES/)
  })
})

describe('DiskStorage: a failed write or sync is a StorageFailure', () => {
  /** Node's fs, with `call` failing with `code` once armed. */
  const failing = (call: 'writeSync' | 'fdatasyncSync', code: string) => {
    let armed = false
    const real = nodeFs[call] as (...args: unknown[]) => unknown
    const fs = {
      ...nodeFs,
      [call]: (...args: unknown[]) => {
        if (armed) throw Object.assign(new Error(code), { code })
        return real(...args)
      },
    } as typeof nodeFs
    return { fs, arm: () => (armed = true) }
  }

  for (const [call, code] of [['writeSync', 'ENOSPC'], ['fdatasyncSync', 'EIO']] as const) {
    it(`${call} failing with ${code}`, () => {
      const dir = dataDir()
      const { fs: faulty, arm } = failing(call, code)
      const storage = open(dir, identity, { fs: faulty })
      storage.persist({ currentTerm: 1, votedFor: O.none }, undefined)
      arm()
      expect(() => storage.persist({ currentTerm: 2, votedFor: O.some(ME) }, undefined)).toThrow(StorageFailure)
      expect(() => storage.persist({ currentTerm: 2, votedFor: O.some(ME) }, undefined)).toThrow(new RegExp(code))
      storage.close()
      // What was stored before the failure is what a restart finds. (After a failed sync the
      // write may or may not be there: nothing that depended on it was sent.)
      expect(call === 'writeSync' ? [1] : [1, 2]).toContain(reopened(dir).currentTerm)
    })
  }
})

describe('DiskStorage: §7 snapshots', () => {
  const kvOf = (...puts: [string, string, string][]): KvStore =>
    puts.reduce((kv: KvStore, [key, value, MID]) => applyCommand(kv, { op: 'put', key, value, client: '0015' as NodeId, MID }), emptyKv)

  it('recovers a snapshot with the log after it, one step\'s snapshot and truncation together', () => {
    const dir = dataDir()
    const storage = open(dir)
    storage.persist({ currentTerm: 2, votedFor: O.some(ME) }, { from: 1, entries: [noop(1), putEntry(1, 'k', 'a', 'm1'), noop(2), noop(2)] })
    const upTo2 = kvOf(['k', 'a', 'm1'])
    // Compaction to 2: the entries after it stay.
    storage.persist(undefined, undefined, { index: 2, term: 1, state: upTo2 })
    // An installed snapshot up to 5 whose last entry the log lacks: the rest of the log goes too.
    const upTo5 = kvOf(['k', 'b', 'm4'], ['j', 'c', 'm5'])
    storage.persist({ currentTerm: 3, votedFor: O.none }, { from: 6, entries: [] }, { index: 5, term: 3, state: upTo5 })
    storage.persist(undefined, { from: 6, entries: [noop(3)] })
    storage.close()
    const again = open(dir)
    const state = again.recover()
    again.close()
    expect(state.currentTerm).toBe(3)
    expect(state.log).toEqual({ snapshotIndex: 5, snapshotTerm: 3, entries: [noop(3)] })
    expect(encodeSnapshot(state.snapshot)).toBe(encodeSnapshot(upTo5))
    // The MIDs came back with it: a retry of an applied put changes nothing.
    expect(hasApplied(state.snapshot, 'm4')).toBe(true)
  })

  it('a compaction keeps the entries after the snapshot, and a rewritten file holds the snapshot', () => {
    const dir = dataDir()
    const storage = open(dir, identity, { compaction: { factor: 2, slackBytes: 0 } })
    storage.persist({ currentTerm: 1, votedFor: O.some(ME) }, undefined)
    const value = 'v'.repeat(100)
    for (let i = 1; i <= 100; i++) storage.persist(undefined, { from: i, entries: [putEntry(1, 'k', `${value}${i}`, `m${i}`)] })
    expect(storage.compactions).toBe(0)
    // The snapshot replaces 99 entries: the file is now far larger than what it must hold.
    storage.persist(undefined, undefined, { index: 99, term: 1, state: kvOf(['k', `${value}99`, 'm99']) })
    expect(storage.compactions).toBe(1)
    expect(storage.bytes).toBeLessThan(2 * 4096)
    storage.close()
    const state = open(dir).recover()
    expect(state.log).toEqual({ snapshotIndex: 99, snapshotTerm: 1, entries: [putEntry(1, 'k', `${value}100`, 'm100')] })
    expect(valuesOf(state.snapshot)).toEqual({ k: `${value}99` })
    expect(state.currentTerm).toBe(1)
  })

  it('refuses a log write that would leave a gap after a snapshot, storing nothing', () => {
    const storage = open(dataDir())
    expect(() => storage.persist(undefined, { from: 9, entries: [noop(1)] }, { index: 5, term: 1, state: emptyKv })).toThrow(RangeError)
    expect(() => storage.persist(undefined, { from: 3, entries: [noop(1)] }, { index: 5, term: 1, state: emptyKv })).toThrow(RangeError)
    expect(storage.recover().log.snapshotIndex).toBe(0)
    storage.close()
  })
})

describe('DiskStorage: one process at a time on a directory', () => {
  const lockFile = (dir: string): string => path.join(dir, ME, LOCK_FILE)
  const guardFile = (dir: string): string => path.join(dir, ME, TAKEOVER_FILE)

  it('a second opening is refused while the first holds the directory, and accepted once it is closed', () => {
    const dir = dataDir()
    const first = open(dir)
    first.persist({ currentTerm: 3, votedFor: O.some(ME) }, undefined)
    const error = refusal(dir)
    expect(error.problem).toBe('inUse')
    expect(error.message).toContain(`in use by process ${process.pid}`)
    expect(error.message).toContain(lockFile(dir))
    // The refused opening wrote nothing and took nothing.
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(lockContents(process.pid, thisPlace()))
    first.close()
    expect(fs.existsSync(lockFile(dir))).toBe(false)
    const second = open(dir)
    expect(second.recover().currentTerm).toBe(3)
    second.close()
  })

  it('a lock whose process has died is taken over (a replica killed at once, then restarted)', () => {
    const dir = dataDir()
    open(dir).close()
    const dead = 999_999
    fs.writeFileSync(lockFile(dir), `${dead}\n`)
    const alive = (pid: number) => pid !== dead
    const storage = open(dir, identity, { isAlive: alive })
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(lockContents(process.pid, thisPlace()))
    storage.close()
    // An unreadable lock (no owner in it) is stale too.
    fs.writeFileSync(lockFile(dir), 'garbage')
    open(dir).close()
  })

  it('a lock held by another living process is not taken, whatever this process is', () => {
    const dir = dataDir()
    open(dir).close()
    fs.writeFileSync(lockFile(dir), '4242\n')
    const error = refusal(dir, identity, { isAlive: (pid) => pid === 4242 })
    expect(error.problem).toBe('inUse')
    expect(error.message).toContain('in use by process 4242')
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe('4242\n')
    // No leftover of the attempt beside the lock.
    expect(fs.readdirSync(path.join(dir, ME)).sort()).toEqual([LOCK_FILE, LOG_FILE])
  })

  it('a lock naming this process, which does not hold it, is a previous process\'s that had the same ID: taken over', () => {
    const dir = dataDir()
    open(dir).close()
    fs.writeFileSync(lockFile(dir), `${process.pid}\n`)
    const storage = open(dir)
    // Ours now: a second opening by this process is refused.
    expect(refusal(dir).problem).toBe('inUse')
    storage.close()
    expect(fs.existsSync(lockFile(dir))).toBe(false)
  })

  it('a stale lock that another process takes over before this one holds the guard stays that process\'s', () => {
    const dir = dataDir()
    open(dir).close()
    fs.writeFileSync(lockFile(dir), '999999\n')
    // Between our reading the dead owner and our taking the guard, process 4242 takes the lock over
    // (guard taken, stale lock removed, its own linked, guard released).
    const racing: DiskStorageOptions['fs'] = {
      ...nodeFs,
      linkSync: (from, to) => {
        if (String(to) === guardFile(dir)) {
          fs.unlinkSync(lockFile(dir))
          fs.writeFileSync(lockFile(dir), '4242\n')
        }
        nodeFs.linkSync(from, to)
      },
    }
    const error = refusal(dir, identity, { fs: racing, isAlive: (pid) => pid === 4242 })
    expect(error.problem).toBe('inUse')
    expect(error.message).toContain('in use by process 4242')
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe('4242\n')
    // Neither the guard nor our ID file is left beside the lock.
    expect(fs.readdirSync(path.join(dir, ME)).sort()).toEqual([LOCK_FILE, LOG_FILE])
  })

  it('a living lock is never out of place while a takeover runs: no third process can link in beside it', () => {
    const dir = dataDir()
    open(dir).close()
    fs.writeFileSync(lockFile(dir), '999999\n')
    // Right after we read the dead owner, process 4242 takes the lock over. From then on, at each of
    // our file operations, process 5151 links its own lock if it finds none.
    let readDeadOwner = false
    let thirdLinked = false
    const tryThird = (): void => {
      if (!readDeadOwner || thirdLinked || fs.existsSync(lockFile(dir))) return
      fs.writeFileSync(lockFile(dir), '5151\n')
      thirdLinked = true
    }
    const racing: DiskStorageOptions['fs'] = {
      ...nodeFs,
      readFileSync: ((file: fs.PathOrFileDescriptor, options?: unknown) => {
        tryThird()
        const text = nodeFs.readFileSync(file, options as BufferEncoding)
        if (String(file) === lockFile(dir) && !readDeadOwner) {
          readDeadOwner = true
          fs.unlinkSync(lockFile(dir))
          fs.writeFileSync(lockFile(dir), '4242\n')
        }
        return text
      }) as typeof fs.readFileSync,
      linkSync: (from, to) => (tryThird(), nodeFs.linkSync(from, to)),
      unlinkSync: (file) => (tryThird(), nodeFs.unlinkSync(file), tryThird()),
      renameSync: (from, to) => (tryThird(), nodeFs.renameSync(from, to), tryThird()),
    }
    const error = refusal(dir, identity, { fs: racing, isAlive: (pid) => pid === 4242 || pid === 5151 })
    expect(error.message).toContain('in use by process 4242')
    // 4242 keeps its lock, and 5151 never found the directory free: one owner at a time.
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe('4242\n')
    expect(thirdLinked).toBe(false)
  })

  it('a takeover under way in a living process refuses the directory and leaves both files alone', () => {
    const dir = dataDir()
    open(dir).close()
    fs.writeFileSync(lockFile(dir), '999999\n')
    fs.writeFileSync(guardFile(dir), '5151\n')
    const error = refusal(dir, identity, { isAlive: (pid) => pid === 5151 })
    expect(error.problem).toBe('inUse')
    expect(error.message).toContain('in use by process 5151')
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe('999999\n')
    expect(fs.readFileSync(guardFile(dir), 'utf8')).toBe('5151\n')
  })

  it('a guard left by a process that died during its takeover is named in the refusal, and not removed', () => {
    const dir = dataDir()
    open(dir).close()
    fs.writeFileSync(lockFile(dir), '999999\n')
    fs.writeFileSync(guardFile(dir), '999998\n')
    const error = refusal(dir, identity, { isAlive: () => false })
    expect(error.problem).toBe('inUse')
    expect(error.message).toContain('process 999998 died')
    expect(error.message).toContain(`remove ${guardFile(dir)}`)
    expect(fs.readFileSync(guardFile(dir), 'utf8')).toBe('999998\n')
    // Once someone removes it, the stale lock is taken over as usual.
    fs.unlinkSync(guardFile(dir))
    const storage = open(dir, identity, { isAlive: (pid) => pid === process.pid })
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(lockContents(process.pid, thisPlace()))
    storage.close()
  })

  describe('a lock taken in another PID namespace, boot or host is never taken over', () => {
    const here = thisPlace()
    const elsewhere = [
      ['another host', { ...here, host: `not-${here.host}` }, /host not-/],
      ['another boot of this host', { ...here, boot: '00000000-0000-4000-8000-000000000000' }, /boot ID 00000000-/],
      ['another PID namespace', { ...here, pidNamespace: 'pid:[1]' }, /PID namespace pid:\[1\]/],
    ] as const
    for (const [where, place, named] of elsewhere) {
      it(`${where}: refused, whatever its process ID names here`, () => {
        const dir = dataDir()
        open(dir).close()
        // 999999 names no process here: by its ID alone the lock would look stale.
        fs.writeFileSync(lockFile(dir), lockContents(999_999, place))
        const error = refusal(dir, identity, { isAlive: () => false })
        expect(error.problem).toBe('inUse')
        expect(error.message).toMatch(named)
        expect(error.message).toContain(`cannot tell whether it still runs, so it does not take the lock over (if no replica runs on this directory anywhere, remove ${lockFile(dir)})`)
        expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(lockContents(999_999, place))
      })
    }

    it('here (same host, boot and namespace), a dead owner\'s lock is taken over as before', () => {
      const dir = dataDir()
      open(dir).close()
      fs.writeFileSync(lockFile(dir), lockContents(999_999, here))
      open(dir, identity, { isAlive: (pid) => pid !== 999_999 }).close()
    })

    // A real second process in a new PID namespace (`unshare -p -f`: root, or user namespaces), on
    // the directory this process holds: kill(pid, 0) there finds no process with our ID.
    const unshare = spawnSync('unshare', ['-p', '-f', 'true'], { stdio: 'ignore', timeout: 20_000 })
    const unshareProblem = unshare.error !== undefined ? `unshare cannot run (${unshare.error.message})` : unshare.status !== 0 ? `unshare -p -f exits ${unshare.status} (it needs root or user namespaces)` : undefined
    if (unshareProblem !== undefined) console.warn(`skipping the PID-namespace process test: ${unshareProblem}`)
    it.skipIf(unshareProblem !== undefined)('a replica started in another PID namespace (unshare -p -f) is refused the directory this process holds, and its LOCK stays', () => {
      const dir = dataDir()
      const holder = open(dir)
      holder.persist({ currentTerm: 7, votedFor: O.some(ME) }, undefined)
      const built = path.resolve(__dirname, '../../dist/src/runtime/disk-storage.js')
      const script = `
        const { DiskStorage } = require(${JSON.stringify(built)})
        const opened = DiskStorage.open(${JSON.stringify(dir)}, ${JSON.stringify(identity)})
        if (opened._tag === 'Right') opened.right.close()
        process.stdout.write(JSON.stringify(opened._tag === 'Left' ? { problem: opened.left.problem, message: opened.left.message } : { taken: true }))
      `
      const child = spawnSync('unshare', ['-p', '-f', process.execPath, '-e', script], { encoding: 'utf8', timeout: 30_000 })
      expect(child.stderr).toBe('')
      const answer = JSON.parse(child.stdout) as { problem?: string; message?: string; taken?: boolean }
      expect(answer).toMatchObject({ problem: 'inUse', message: expect.stringMatching(new RegExp(`locked by process ${process.pid} on PID namespace ${here.pidNamespace.replace(/[[\]]/g, '\\$&')} \\(here pid:\\[\\d+\\]\\)`)) })
      expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(lockContents(process.pid, here))
      holder.persist({ currentTerm: 8, votedFor: O.none }, undefined)
      holder.close()
      expect(open(dir).recover().currentTerm).toBe(8)
    })
  })
})

describe('storage records: a record that decodes to the wrong fields says which field', () => {
  it('names the field, the value found and what is expected there', () => {
    const bad = decodeWrite(Buffer.from(JSON.stringify({ log: { from: 0, entries: [] } }), 'utf8'))
    expect(bad).toEqual(E.left('write record: field "log.from": expected a whole number of at least 1, got 0'))
    expect(decodeWrite(Buffer.from('{', 'utf8'))).toEqual(E.left('write record: not JSON'))
  })
})
