/**
 * The runtime and its storage. Figure 2: persistent state is "updated on stable storage before
 * responding to RPCs": a vote leaves only after it is stored, and when it cannot be stored the
 * replica stops without sending it, and handles nothing more.
 */
import { describe, expect, it } from 'vitest'
import { ReplicaRuntime } from '../../src/runtime/replica'
import { MemoryStorage, StorageFailure, type Storage } from '../../src/runtime/storage'
import { encodeMessage } from '../../src/domain/wire'
import { R, replica, vote } from '../domain/helpers'

const [ME, A] = R

/** A runtime on `storage`, with the datagrams it sends and what happened, in order. */
const runtimeOn = (storage: Storage) => {
  const happened: string[] = []
  const failures: StorageFailure[] = []
  let now = 0
  const runtime = new ReplicaRuntime(replica(ME), {
    now: () => now,
    send: (bytes) => happened.push(`send ${JSON.parse(bytes.toString('utf8')).type}`),
    trace: undefined,
    storage,
    onStorageFailure: (failure) => failures.push(failure),
  })
  const deliverVote = (at: number, term: number): void => {
    now = at
    runtime.onDatagram(Buffer.from(encodeMessage(vote({ src: A, dst: ME, term }))))
  }
  return { runtime, happened, failures, deliverVote }
}

describe('the runtime stores before it sends', () => {
  it('a vote reply leaves after the persist that stores the vote', () => {
    const memory = new MemoryStorage()
    const logged: Storage = {
      persist: (hardState, log, snapshot) => {
        setup.happened.push(`persist term ${hardState?.currentTerm}`)
        memory.persist(hardState, log, snapshot)
      },
      recover: () => memory.recover(),
      close: () => undefined,
    }
    const setup = runtimeOn(logged)
    setup.runtime.start()
    setup.deliverVote(5_000, 1)
    expect(setup.happened).toEqual(['send hello', 'persist term 1', 'send voteReply'])
    expect(memory.recover().currentTerm).toBe(1)
    setup.runtime.stop()
  })

  it('a failed persist stops the replica: the reply is not sent and later events are ignored', () => {
    let closed = false
    const failing: Storage = {
      persist: () => {
        throw new StorageFailure('cannot store a write: EIO')
      },
      recover: () => new MemoryStorage().recover(),
      close: () => {
        closed = true
      },
    }
    const setup = runtimeOn(failing)
    setup.runtime.start()
    setup.deliverVote(5_000, 1)
    expect(setup.failures.map((f) => f.message)).toEqual(['cannot store a write: EIO'])
    expect(closed).toBe(true)
    setup.deliverVote(6_000, 2)
    expect(setup.happened).toEqual(['send hello'])
    expect(setup.failures).toHaveLength(1)
  })
})
