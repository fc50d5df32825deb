/**
 * The bugs check:net injects (src/net-test/bugs.ts) change the rule each is named after, on the
 * path a real replica takes: the reducer each wraps is stepped as `raftkv serve` steps it, and the
 * vote that is not stored is looked for on the storage of the batched runtime, which stores what a
 * batch changed rather than the persist effects of single steps. Each is also shown to change
 * nothing where its rule is not involved.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { describe, expect, it } from 'vitest'
import { received, type Event } from '../../src/domain/events'
import type { ReplicaState } from '../../src/domain/state'
import type { Message } from '../../src/domain/wire'
import { sentMessages, type Effect } from '../../src/domain/effect'
import { realStep, type Stepper } from '../../src/check/stepper'
import { BUGS, bugFromEnvironment, BUG_ENV, readsFor } from '../../src/net-test/bugs'
import { withSettings } from '../../src/domain/config'
import { ReplicaRuntime } from '../../src/runtime/replica'
import { DiskStorage } from '../../src/runtime/disk-storage'
import { MemoryStorage, type Storage } from '../../src/runtime/storage'
import { acks, deliver, ELECTED_AT as L, get, leaderOf, MIN, put, R, repliesTo, replica, settings, start, timing, vote } from '../domain/helpers'

const [ME, A, B, C, D] = R

const stepAll = (stepper: Stepper, state: ReplicaState, events: readonly Event[]): { state: ReplicaState; effects: Effect[] } => {
  let s = state
  const effects: Effect[] = []
  for (const event of events) {
    const [next, out] = stepper(s, event)
    s = next
    effects.push(...out)
  }
  return { state: s, effects }
}

/** A leader of term 1 that committed `k = v1`, every follower's last answer echoing a send at `L + 20`. */
const leaderWithValue = (reads: 'lease' | 'readIndex' = 'lease'): ReplicaState => {
  const leader = leaderOf(1, { settings: withSettings(settings, { reads }) }).state
  const settled = deliver(leader, L + 10, ...acks(leader, [A, B, C, D], 1, L)).state
  const appended = deliver(settled, L + 20, put({ dst: ME, MID: 'p1', key: 'k', value: 'v1' })).state
  return deliver(appended, L + 30, ...acks(appended, [A, B, C, D], 2, L + 20)).state
}

/** Long after its lease ran out (a pause, a partition): no answer echoes a send newer than L + 20. */
const WOKEN = L + 20 + timing.electionTimeoutMaxMs * 2

const getAnswered = (stepper: Stepper, leader: ReplicaState, before: readonly Event[]): boolean => {
  const { effects } = stepAll(stepper, leader, [...before, received(WOKEN + 1, get({ dst: ME, MID: 'g1', key: 'k' }))])
  return repliesTo(sentMessages(effects), 'g1').some((m) => m.type === 'ok')
}

describe('the bugs check:net injects', () => {
  it('lease-outlives-pause: answers that waited while the leader slept renew its lease on waking (the real leader holds the get)', () => {
    const leader = leaderWithValue()
    // Answers to AppendEntries sent before the pause, read on waking.
    const stale = acks(leader, [A, B], 2, L + 20).map((m) => received(WOKEN, m))
    expect(getAnswered(realStep, leader, stale)).toBe(false)
    expect(getAnswered(BUGS['lease-outlives-pause'].step, leader, stale)).toBe(true)
    // With no answer at all, the bug has nothing to count: it holds the get too.
    expect(getAnswered(BUGS['lease-outlives-pause'].step, leader, [])).toBe(false)
    // A bug of the lease: check:net runs the replicas on it.
    expect(readsFor('lease-outlives-pause')).toBe('lease')
    expect(readsFor('read-skips-quorum')).toBeUndefined()
  })

  it('read-skips-quorum: a leader that has heard from no one since its lease ran out answers a get at once (the real one holds it), under the lease and under ReadIndex', () => {
    for (const reads of ['lease', 'readIndex'] as const) {
      const leader = leaderWithValue(reads)
      expect(getAnswered(realStep, leader, []), reads).toBe(false)
      expect(getAnswered(BUGS['read-skips-quorum'].step, leader, []), reads).toBe(true)
    }
    const leader = leaderWithValue()
    // Its view of its followers is left as it was: check-quorum still sees nobody answered.
    const after = BUGS['read-skips-quorum'].step(leader, received(WOKEN + 1, get({ dst: ME, MID: 'g1', key: 'k' })))[0]
    expect(after.progress).toEqual(leader.progress)
  })

  it('vote-not-stored: the batched runtime of `raftkv serve` grants the vote and its storage finds no vote after a restart (the real one stores it)', async () => {
    const votedAfterRestart = async (storage: Storage): Promise<O.Option<string>> => {
      const follower = start(replica(ME, { term: 1 }), 0).state
      let answered: (m: Message) => void = () => undefined
      const answer = new Promise<Message>((resolve) => (answered = resolve))
      const runtime = new ReplicaRuntime(follower, {
        now: () => MIN * 3,
        send: () => undefined,
        route: (m) => answered(m),
        trace: undefined,
        storage,
        // As `raftkv serve` steps events.
        batch: true,
        timers: () => ({ set: () => undefined, cancel: () => undefined, stop: () => undefined }),
      })
      runtime.onMessage(vote({ src: B, dst: ME, term: 2 }))
      expect(await answer).toMatchObject({ type: 'voteReply', dst: B, term: 2, granted: true })
      expect(runtime.current.persistent.votedFor).toEqual(O.some(B))
      return storage.recover().votedFor
    }
    const bug = bugFromEnvironment({ [BUG_ENV]: 'vote-not-stored' })
    // In memory (persist), and on disk as `raftkv serve` keeps it (persisted in the background).
    const dirs: string[] = []
    const onDisk = (): Storage => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bug-vote-'))
      dirs.push(dir)
      const opened = DiskStorage.open(dir, { id: ME, peers: [A, B, C, D] })
      if (E.isLeft(opened)) throw opened.left
      expect(opened.right.persistInBackground).toBeDefined()
      return opened.right
    }
    try {
      for (const store of [() => new MemoryStorage(), onDisk]) {
        const faithful = store()
        expect(await votedAfterRestart(faithful)).toEqual(O.some(B))
        faithful.close()
        const forgetful = bug.storage!(store())
        expect(await votedAfterRestart(forgetful)).toEqual(O.none)
        // The term it does store.
        expect(forgetful.recover().currentTerm).toBe(2)
        forgetful.close()
      }
    } finally {
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('is chosen by the environment alone: none when unset, an error for an unknown name', () => {
    expect(bugFromEnvironment({}).bug).toBeUndefined()
    expect(bugFromEnvironment({}).step).toBe(realStep)
    expect(bugFromEnvironment({ [BUG_ENV]: 'read-skips-quorum' }).step).toBe(BUGS['read-skips-quorum'].step)
    expect(() => bugFromEnvironment({ [BUG_ENV]: 'no-such-bug' })).toThrow(/no such bug/)
  })
})
