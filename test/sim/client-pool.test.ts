import { describe, expect, it } from 'vitest'
import { ClientPool, ClientRequest, md5 } from '../../src/sim/client-pool'
import { clientIds } from '../../src/domain/ids'
import { Prng } from '../../src/sim/prng'

const living = ['0000', '0001', '0002', '0003', '0004']
const pool = (mix: number, seed = 1, alive: string[] = living) =>
  new ClientPool(clientIds(5), mix, new Prng(seed), { living: () => alive })

const reply = (request: ClientRequest, type: string, extra: Record<string, unknown> = {}) => ({
  src: request.to, dst: request.message.src, leader: '0000', MID: request.message.MID, type, ...extra,
})

describe('client IDs', () => {
  it('count on from replicas + 16, as 4 upper-case hex digits', () => {
    expect(clientIds(5)).toEqual(['0015', '0016', '0017', '0018', '0019', '001A', '001B', '001C'])
  })
})

describe('ClientPool', () => {
  it('first requests are puts of a fresh key with value md5(key), to a random living replica, leader FFFF', () => {
    const clients = pool(0)
    const request = clients.newRequest(0)!
    expect(request.message.type).toBe('put')
    expect(request.message.leader).toBe('FFFF')
    expect(living).toContain(request.to)
    expect(request.message.MID).toHaveLength(16)
    expect(request.message.key).toHaveLength(32)
    expect(request.message.value).toBe(md5(request.message.key))
  })

  it('a get with no acknowledged key becomes a put and counts as failed to generate', () => {
    const clients = pool(1)
    expect(clients.newRequest(0)!.message.type).toBe('put')
    expect(clients.counters.generatedGets).toBe(1)
    expect(clients.counters.failedToGenerate).toBe(1)
  })

  it('retries a redirect at once under a new MID to the named leader; fail counts a failure', () => {
    const clients = pool(0)
    const first = clients.newRequest(0)!
    const outcome = clients.handleReply(first.message.src, reply(first, 'redirect'), 0.01)
    expect(outcome.kind).toBe('retry')
    if (outcome.kind !== 'retry' || !outcome.request) throw new Error('expected a retry')
    const second = outcome.request
    expect(second.to).toBe('0000')
    expect(second.message.leader).toBe('0000')
    expect(second.message.MID).not.toBe(first.message.MID)
    expect(second.message.key).toBe(first.message.key)
    expect(second.message.value).toBe(first.message.value)
    expect(clients.counters.redirects).toBe(1)
    const third = clients.handleReply(second.message.src, reply(second, 'fail'), 0.02)
    expect(third.kind).toBe('retry')
    expect(clients.counters.failedPuts).toBe(1)
    expect(clients.latencies).toHaveLength(2)
  })

  it('flags replies to unknown MIDs as incorrect and to completed MIDs as duplicates', () => {
    const clients = pool(0)
    const request = clients.newRequest(0)!
    const client = request.message.src
    expect(clients.handleReply(client, { ...reply(request, 'ok'), MID: 'nope' }, 0).kind).toBe('incorrect')
    expect(clients.handleReply(client, reply(request, 'ok'), 0.001).kind).toBe('ok')
    expect(clients.handleReply(client, reply(request, 'ok'), 0.002).kind).toBe('duplicate')
    expect(clients.counters.duplicates).toBe(1)
    expect(clients.handleReply(client, { ...reply(request, 'ok'), MID: undefined }, 0).kind).toBe('incorrect')
    expect(clients.handleReply(client, { ...reply(request, 'bogus') }, 0).kind).toBe('incorrect')
  })

  it('a reply that reaches another client is incorrect', () => {
    const clients = pool(0)
    const request = clients.newRequest(0)!
    const other = clientIds(5).find((id) => id !== request.message.src)!
    expect(clients.handleReply(other, reply(request, 'ok'), 0).kind).toBe('incorrect')
  })

  it('checks a get strictly against the latest put ok this client received', () => {
    // mix 1: after the first put is acknowledged, every request of that client is a get.
    const clients = new ClientPool(['0015'], 1, new Prng(3), { living: () => living })
    const put = clients.newRequest(0)!
    clients.handleReply('0015', reply(put, 'ok'), 0.001)
    const get = clients.newRequest(0.1)!
    expect(get.message.type).toBe('get')
    expect(get.message.key).toBe(put.message.key)
    expect(clients.handleReply('0015', reply(get, 'ok', { value: 'stale' }), 0.101).kind).toBe('incorrect')
    const get2 = clients.newRequest(0.2)!
    expect(clients.handleReply('0015', reply(get2, 'ok', { value: put.message.value }), 0.201).kind).toBe('ok')
    expect(clients.history.filter((op) => op.completedAt !== undefined)).toHaveLength(3)
  })

  it('counts unanswered attempts by kind, and keeps the first invocation time across retries', () => {
    const clients = pool(0)
    const request = clients.newRequest(1)!
    const retry = clients.handleReply(request.message.src, reply(request, 'redirect'), 2)
    expect(retry.kind).toBe('retry')
    expect(clients.unanswered()).toEqual({ gets: 0, puts: 1 })
    expect(clients.history).toHaveLength(1)
    expect(clients.history[0]!.invokedAt).toBe(1)
  })

  it('sends to a random living replica when the remembered leader is gone, and forgets it', () => {
    const alive = ['0001', '0002']
    const clients = new ClientPool(['0015'], 0, new Prng(2), { living: () => alive })
    const first = clients.newRequest(0)!
    clients.handleReply('0015', { ...reply(first, 'ok'), leader: '0000' }, 0.001) // 0000 is dead
    const next = clients.newRequest(0.1)!
    expect(alive).toContain(next.to)
    expect(next.message.leader).toBe('FFFF')
  })
})

describe('ClientPool, shared workload (Jepsen lin-kv style)', () => {
  const shared = (mix: number, seed = 1) => new ClientPool(clientIds(5), mix, new Prng(seed), { living: () => living }, 'shared')

  it('every client reads and writes the same three keys, with a value never written before', () => {
    const clients = shared(0.5)
    const requests = Array.from({ length: 200 }, (_, i) => clients.newRequest(i)!)
    const keys = new Set(requests.map((r) => r.message.key))
    expect(keys.size).toBe(3)
    for (const key of keys) {
      const writers = new Set(requests.filter((r) => r.message.key === key && r.message.type === 'put').map((r) => r.message.src))
      expect(writers.size).toBeGreaterThan(1)
    }
    const values = requests.filter((r) => r.message.type === 'put').map((r) => r.message.value)
    expect(values.length).toBeGreaterThan(50)
    expect(new Set(values).size).toBe(values.length)
    // A get is a get from the start: there is no acknowledged key to wait for.
    expect(clients.counters.failedToGenerate).toBe(0)
  })

  it("a get that returns another client's write is not judged per client, and an empty value reads as never written", () => {
    const clients = shared(0.5, 3)
    const requests = Array.from({ length: 40 }, (_, i) => clients.newRequest(i)!)
    const put = requests.find((r) => r.message.type === 'put')!
    const get = requests.find((r) => r.message.type === 'get' && r.message.src !== put.message.src && r.message.key === put.message.key)!
    expect(clients.handleReply(put.message.src, reply(put, 'ok'), 50)).toEqual({ kind: 'ok' })
    expect(clients.handleReply(get.message.src, reply(get, 'ok', { value: put.message.value }), 51)).toEqual({ kind: 'ok' })
    const other = requests.find((r) => r.message.type === 'get' && r !== get)!
    expect(clients.handleReply(other.message.src, reply(other, 'ok', { value: '' }), 52)).toEqual({ kind: 'ok' })
    const history = clients.history
    expect(history.find((op) => op.key === get.message.key && op.client === get.message.src && op.completedAt === 51)?.value).toBe(put.message.value)
    expect(history.find((op) => op.completedAt === 52)?.value).toBeUndefined()
  })
})
