/**
 * The batched runtime with a store that persists in the background (the real cluster's): the
 * replica steps on while the disk works, and what it sends waits exactly as domain/durability.ts
 * says. Figure 2: persistent state is "updated on stable storage before responding to RPCs".
 * Thesis §10.2.1: "the leader can write to its disk in parallel with replicating to the followers
 * and committing entries", counting its own entries toward a majority only once they are durable.
 * The store here holds every persist until the test says it is durable.
 */
import { describe, expect, it } from 'vitest'
import { standaloneSettings } from '../../src/domain/config'
import { commitsAlone } from '../../src/domain/durability'
import type { HardState, LogWrite, SnapshotWrite } from '../../src/domain/effect'
import { emptyPersistent, type PersistentState, type ReplicaState } from '../../src/domain/state'
import type { Message } from '../../src/domain/wire'
import { ReplicaRuntime } from '../../src/runtime/replica'
import { StorageFailure, type Storage } from '../../src/runtime/storage'
import { append, appendReply, CLIENT, get, leaderOf, logOfTerms, noop, ofType, put, R, replica, repliesTo } from '../domain/helpers'

const [ME, A, B] = R
const PEERS = [ME, A, B]

/** A store whose background persists become durable when the test says so. */
class HeldStorage implements Storage {
  readonly waiting: ((failure?: StorageFailure) => void)[] = []
  persist(): void {
    throw new Error('the batched runtime persists in the background when it can')
  }
  persistInBackground(_h: HardState | undefined, _l: LogWrite | undefined, _s: SnapshotWrite | undefined, done: (failure?: StorageFailure) => void): void {
    this.waiting.push(done)
  }
  /** The oldest persist is durable (or failed). */
  complete(failure?: StorageFailure): void {
    this.waiting.shift()!(failure)
  }
  recover(): PersistentState {
    return emptyPersistent
  }
  close(): void {}
}

const noTimers = () => ({ set: () => {}, cancel: () => {}, stop: () => {} })
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const runtimeOf = (initial: ReplicaState) => {
  const storage = new HeldStorage()
  const sent: Message[] = []
  const failures: string[] = []
  const runtime = new ReplicaRuntime(initial, {
    now: () => 20_000,
    send: () => {},
    route: (message) => void sent.push(message),
    batch: true,
    timers: noTimers,
    storage,
    onStorageFailure: (failure) => void failures.push(failure.message),
  })
  return { runtime, storage, sent, failures }
}

describe('the batched runtime with a background store', () => {
  // §10.2.1: the AppendEntries go out while the leader's own write is with the disk; the commit it
  // then counts (its own copy and a follower's) is answered only once its own copy is durable.
  it("a leader's AppendEntries leave before its own persist; the put's answer only once that persist is durable", async () => {
    const leader = leaderOf(2, { log: logOfTerms(1), settings: standaloneSettings, peers: PEERS }).state
    const { runtime, storage, sent } = runtimeOf(leader)
    runtime.onMessage(put({ dst: ME, MID: 'p1', key: 'k', value: 'v' }))
    await turn()
    expect(storage.waiting).toHaveLength(1)
    const appends = ofType(sent, 'append').filter((m) => m.entries.some((e) => e.command.op === 'put'))
    expect(appends.map((m) => m.dst).sort()).toEqual([A, B].sort())

    // A follower acknowledges before the leader's own write is durable: the acknowledgement waits
    // for it (the next batch), so the leader counts its own copy only once durable...
    runtime.onMessage(appendReply({ src: A, dst: ME, term: 2, success: true, matchIndex: 3, sentAt: 20_000 }))
    await turn()
    expect(runtime.current.commitIndex).toBe(0)
    expect(repliesTo(sent, 'p1')).toEqual([])
    // ...and then answers at once, without another write: the answer is no reply to an RPC.
    storage.complete()
    expect(runtime.current.commitIndex).toBe(3)
    expect(storage.waiting).toHaveLength(0)
    expect(repliesTo(sent, 'p1')).toEqual([{ src: ME, dst: CLIENT, leader: ME, type: 'ok', MID: 'p1' }])
  })

  // Figure 2: the reply to an AppendEntries vouches for what it stored, so it waits for that
  // persist; the events that arrive meanwhile make the next batch, stepped once it is durable.
  it("a follower's reply to AppendEntries waits for its persist, and every later batch's messages after it", async () => {
    const follower = replica(ME, { peers: PEERS, settings: standaloneSettings, term: 1 })
    const { runtime, storage, sent } = runtimeOf(follower)
    runtime.onMessage(append({ src: A, dst: ME, term: 2, entries: [noop(2)], sentAt: 5 }))
    await turn()
    expect(storage.waiting).toHaveLength(1)
    expect(sent).toEqual([])
    runtime.onMessage(get({ dst: ME, MID: 'g1', key: 'k' }))
    await turn()
    expect(sent).toEqual([])
    storage.complete()
    expect(sent.map((m) => m.type)).toEqual(['appendReply', 'redirect'])
    expect(ofType(sent, 'appendReply')[0]).toMatchObject({ success: true, matchIndex: 1, sentAt: 5 })
  })

  it('puts that arrive while a persist is with the disk make one batch: one write for all of them (group commit)', async () => {
    const leader = leaderOf(2, { log: logOfTerms(1), settings: standaloneSettings, peers: PEERS }).state
    const { runtime, storage } = runtimeOf(leader)
    runtime.onMessage(put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' }))
    await turn()
    for (const MID of ['p2', 'p3', 'p4']) runtime.onMessage(put({ dst: ME, MID, key: 'k', value: MID }))
    await turn()
    expect(storage.waiting).toHaveLength(1)
    expect(runtime.current.persistent.log.entries).toHaveLength(3)
    storage.complete()
    expect(storage.waiting).toHaveLength(1)
    expect(runtime.current.persistent.log.entries).toHaveLength(6)
  })

  // A lone voter would be a majority by itself, and could commit what it appends in the same
  // step: then every message waits for the persist (domain/durability.ts, commitsAlone).
  it('a replica is told apart when its own copy is a majority of the voters by itself', () => {
    expect(commitsAlone(replica(ME, { peers: [ME], settings: standaloneSettings }))).toBe(true)
    expect(commitsAlone(replica(ME, { peers: [ME, A], settings: standaloneSettings }))).toBe(false)
    expect(commitsAlone(replica(ME, { peers: PEERS, settings: standaloneSettings }))).toBe(false)
  })

  it('a persist that fails stops the replica: what waited for it is never sent', async () => {
    const follower = replica(ME, { peers: PEERS, settings: standaloneSettings, term: 1 })
    const { runtime, storage, sent, failures } = runtimeOf(follower)
    runtime.onMessage(append({ src: A, dst: ME, term: 2, entries: [noop(2)] }))
    await turn()
    storage.complete(new StorageFailure('EIO'))
    expect(failures).toEqual(['EIO'])
    expect(sent).toEqual([])
    runtime.onMessage(append({ src: A, dst: ME, term: 2, prevLogIndex: 1, prevLogTerm: 2 }))
    await turn()
    expect(sent).toEqual([])
  })
})
