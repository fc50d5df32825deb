/**
 * Whose a data directory is, and what a restart takes from it (data-dir.ts, net/cluster.ts): the
 * identity record keeps the replica's ID and the configuration it started from; with members in
 * the log (`raftkv serve`) the command line's members only bootstrap a new directory; a directory
 * of the previous format opens; broken or mismatched files are refused with a clear error, and
 * nothing in the directory is changed by a refusal.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { afterEach, describe, expect, it } from 'vitest'
import { allVoters, configuration } from '../../src/domain/membership'
import type { NodeId } from '../../src/domain/wire'
import { DataDirError, holdsReplica, LOG_FILE, type Claim } from '../../src/runtime/data-dir'
import { DiskStorage } from '../../src/runtime/disk-storage'
import { addressesOnStart, CLUSTER_FILE, clusterToJson, parsePeers, type Cluster } from '../../src/runtime/net/cluster'
import { frameRecord, scanRecords } from '../../src/runtime/record-file'
import { decodeIdentity, RecordKind } from '../../src/runtime/storage-records'
import { putEntry } from '../domain/helpers'

const ME = '0002' as NodeId
const dirs: string[] = []
const dataDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-datadir-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

const open = (dir: string, claim: Claim): DiskStorage => {
  const opened = DiskStorage.open(dir, claim, { report: () => {} })
  if (E.isLeft(opened)) throw opened.left
  return opened.right
}
const refusal = (dir: string, claim: Claim): DataDirError => {
  const opened = DiskStorage.open(dir, claim, { report: () => {} })
  if (E.isRight(opened)) {
    opened.right.close()
    throw new Error('the directory was accepted')
  }
  return opened.left
}
const fileOf = (dir: string, id: string = ME): string => path.join(dir, id, LOG_FILE)
const ids = (...list: string[]): NodeId[] => list as NodeId[]
const first = allVoters(ids('0001', '0002', '0003'))
const later = allVoters(ids('0002', '0003', '0004'))

describe('the identity record with members in the log (raftkv serve)', () => {
  it('a new directory records the bootstrap; a later start keeps it, whatever bootstrap it is given, or none', () => {
    const dir = dataDir()
    const made = open(dir, { id: ME, bootstrap: first })
    expect(made.identity).toEqual({ id: ME, bootstrap: first })
    made.persist({ currentTerm: 3, votedFor: O.some('0001' as NodeId) }, { from: 1, entries: [putEntry(3, 'k', 'v', 'm1')] })
    made.close()
    for (const given of [later, allVoters([ME]), undefined]) {
      const again = open(dir, { id: ME, bootstrap: given })
      expect(again.identity.bootstrap).toEqual(first)
      expect(again.recover().currentTerm).toBe(3)
      again.close()
    }
  })

  it('a joining replica records the configuration it joined, itself outside it', () => {
    const dir = dataDir()
    const joined = configuration(ids('0001', '0003'), ids('0004'))
    open(dir, { id: '0005' as NodeId, bootstrap: joined }).close()
    const again = open(dir, { id: '0005' as NodeId, bootstrap: undefined })
    expect(again.identity.bootstrap).toEqual(joined)
    again.close()
  })

  it('a directory that holds no replica, and no bootstrap to make one: refused, saying what to do, and nothing is created', () => {
    const dir = dataDir()
    expect(holdsReplica(dir, ME)).toBe(false)
    const error = refusal(dir, { id: ME, bootstrap: undefined })
    expect(error.problem).toBe('noReplica')
    expect(error.message).toContain(`${path.join(dir, ME)} holds no replica yet (it has no raft.log)`)
    expect(error.message).toMatch(/\n {2}what to do: to start a new replica there, give the members of the new cluster .*to restart a replica, give --data the directory it ran on/)
    expect(fs.readdirSync(dir)).toEqual([])
    open(dir, { id: ME, bootstrap: first }).close()
    expect(holdsReplica(dir, ME)).toBe(true)
  })

  it('another replica\'s directory (copied or renamed) is refused under either rule, and left as it was', () => {
    const dir = dataDir()
    open(dir, { id: '0001' as NodeId, bootstrap: first }).close()
    fs.renameSync(path.join(dir, '0001'), path.join(dir, ME))
    const before = fs.readFileSync(fileOf(dir))
    for (const claim of [{ id: ME, bootstrap: first }, { id: ME, bootstrap: undefined }, { id: ME, peers: ids('0001', '0003') }]) {
      const error = refusal(dir, claim)
      expect(error.problem).toBe('otherReplica')
      expect(error.message).toContain(`belongs to replica 0001, not to ${ME}`)
    }
    expect(fs.readFileSync(fileOf(dir))).toEqual(before)
  })
})

describe('the identity record with members fixed by the command line (the course\'s 3700kvstore)', () => {
  it('is the bootstrap of its peers and itself, all voters; other peers are another cluster', () => {
    const dir = dataDir()
    const made = open(dir, { id: ME, peers: ids('0003', '0001') })
    expect(made.identity.bootstrap).toEqual(first)
    made.close()
    open(dir, { id: ME, peers: ids('0001', '0003') }).close()
    const error = refusal(dir, { id: ME, peers: ids('0003', '0004') })
    expect(error.problem).toBe('otherCluster')
    expect(error.message).toContain('of a cluster with peers 0001 0003, not 0003 0004')
  })
})

describe('identity records of other formats, and broken ones', () => {
  /** A directory whose file holds `identity` as its identity record, then one write. */
  const withIdentity = (identity: unknown): string => {
    const dir = dataDir()
    fs.mkdirSync(path.join(dir, ME))
    const write = { hardState: { currentTerm: 4, votedFor: null }, log: { from: 1, entries: [putEntry(4, 'k', 'v', 'm1')] } }
    fs.writeFileSync(
      fileOf(dir),
      Buffer.concat([frameRecord(RecordKind.identity, Buffer.from(JSON.stringify(identity))), frameRecord(RecordKind.write, Buffer.from(JSON.stringify(write)))]),
    )
    return dir
  }

  it('format 1 (the previous version: the peers\' IDs) opens as a bootstrap of all of them voters, and is rewritten as format 2', () => {
    const dir = withIdentity({ format: 1, id: ME, peers: ['0003', '0001'] })
    const storage = open(dir, { id: ME, bootstrap: later })
    expect(storage.identity.bootstrap).toEqual(first)
    expect(storage.recover().currentTerm).toBe(4)
    storage.close()
    // The course's replica, whose peers are fixed, opens it with the same peers only.
    open(dir, { id: ME, peers: ids('0001', '0003') }).close()
    expect(refusal(dir, { id: ME, peers: ids('0001') }).problem).toBe('otherCluster')
    // A compacting rewrite writes the identity in this version's format, with the same bootstrap.
    const compacting = DiskStorage.open(dir, { id: ME, bootstrap: undefined }, { compaction: { factor: 0, slackBytes: 0 }, report: () => {} })
    if (E.isLeft(compacting)) throw compacting.left
    expect(compacting.right.compactions).toBe(1)
    compacting.right.close()
    const scanned = scanRecords(fs.readFileSync(fileOf(dir)))
    if (E.isLeft(scanned)) throw new Error(scanned.left)
    expect(JSON.parse(scanned.right.records[0]!.payload.toString('utf8'))).toEqual({ format: 2, id: ME, bootstrap: { voters: ['0001', '0002', '0003'], learners: [] } })
    const reopened = open(dir, { id: ME, bootstrap: undefined })
    expect(reopened.recover().currentTerm).toBe(4)
    reopened.close()
  })

  it('a format this version does not know, or a record missing a field, is refused as corrupt, saying which', () => {
    const newer = refusal(withIdentity({ format: 3, id: ME, cluster: 'x' }), { id: ME, bootstrap: first })
    expect(newer.problem).toBe('corrupt')
    expect(newer.message).toContain('identity record: format 3, and this replica reads formats 1 and 2 (written by another version)')
    const noBootstrap = refusal(withIdentity({ format: 2, id: ME, peers: ['0001'] }), { id: ME, bootstrap: first })
    expect(noBootstrap.problem).toBe('corrupt')
    expect(noBootstrap.message).toMatch(/identity record: field "bootstrap"/)
    expect(noBootstrap.message).toContain('what to do: do not empty the directory')
    expect(decodeIdentity(Buffer.from('{"format":2,"id":"0002","bootstrap":{"voters":["x"],"learners":[]}}'))).toMatchObject({ _tag: 'Left' })
    expect(decodeIdentity(Buffer.from('not json'))).toEqual(E.left('identity record: not JSON'))
  })
})

describe('the members\' addresses on a start (DATA/<ID>/cluster.json)', () => {
  const cluster = (text: string): Cluster => {
    const parsed = parsePeers(text)
    if (E.isLeft(parsed)) throw new Error(parsed.left)
    return parsed.right
  }
  const firstCluster = cluster('1=127.0.0.1:7501/7401,2=127.0.0.1:7502/7402,3=127.0.0.1:7503/7403')
  const laterCluster = cluster('2=127.0.0.1:7502/7402,3=127.0.0.1:7503/7403,4=127.0.0.1:7504/7404')
  const replicaDir = (): string => {
    const dir = path.join(dataDir(), ME)
    fs.mkdirSync(dir)
    return dir
  }

  it('a new directory records the cluster given; a later start takes the record, whatever members are given, or none', () => {
    const dir = replicaDir()
    expect(addressesOnStart(dir, firstCluster, ME)).toEqual(E.right(firstCluster))
    expect(fs.readFileSync(path.join(dir, CLUSTER_FILE), 'utf8')).toBe(clusterToJson(firstCluster))
    // serve.ts rewrites the record to the log's members as the configuration changes.
    fs.writeFileSync(path.join(dir, CLUSTER_FILE), clusterToJson(laterCluster))
    for (const given of [firstCluster, laterCluster, cluster('2=127.0.0.1:7502/7402'), undefined]) {
      expect(addressesOnStart(dir, given, ME)).toEqual(E.right(laterCluster))
    }
  })

  it('other addresses for this replica are refused, naming both; the record is left as it was', () => {
    const dir = replicaDir()
    addressesOnStart(dir, firstCluster, ME)
    const moved = addressesOnStart(dir, cluster('2=127.0.0.1:7502/8402'), ME)
    expect(moved).toMatchObject({ _tag: 'Left', left: { otherAddresses: true } })
    expect(E.isLeft(moved) && moved.left.message).toContain(
      `replica ${ME} of the cluster recorded in ${path.join(dir, CLUSTER_FILE)} is at peer 127.0.0.1:7502, client 127.0.0.1:7402; given now: peer 127.0.0.1:7502, client 127.0.0.1:8402`,
    )
    expect(fs.readFileSync(path.join(dir, CLUSTER_FILE), 'utf8')).toBe(clusterToJson(firstCluster))
  })

  it('a record that is missing, unreadable, or does not name this replica, with nothing given to mend it: refused, saying what to give', () => {
    const dir = replicaDir()
    const missing = `${path.join(dir, CLUSTER_FILE)} is missing: give the cluster (--peers or --cluster) to record it again`
    expect(addressesOnStart(dir, undefined, ME)).toEqual(E.left({ otherAddresses: false, message: missing }))
    fs.writeFileSync(path.join(dir, CLUSTER_FILE), '{"replicas":')
    const unreadable = `the data directory's cluster description is unreadable: ${path.join(dir, CLUSTER_FILE)}: not JSON`
    expect(addressesOnStart(dir, firstCluster, ME)).toEqual(E.left({ otherAddresses: false, message: unreadable }))
    // A record an earlier version rewrote without this replica once the log removed it.
    const withoutMe = cluster('3=127.0.0.1:7503/7403,4=127.0.0.1:7504/7404')
    fs.writeFileSync(path.join(dir, CLUSTER_FILE), clusterToJson(withoutMe))
    expect(addressesOnStart(dir, undefined, ME)).toMatchObject({ _tag: 'Left', left: { otherAddresses: false, message: expect.stringContaining(`does not name replica ${ME}: give its addresses`) } })
    expect(addressesOnStart(dir, firstCluster, ME)).toEqual(E.right(laterCluster))
  })
})
