/**
 * `raftkv serve` as a user runs it: three real processes on loopback talking TCP to each other and
 * HTTP to clients. They elect a leader, serve puts and gets through the HTTP API (the project's
 * client) and the CLI, and lose no acknowledged put when the leader is SIGKILLed and then
 * restarted from its data directory. Bounds are generous: this checks behaviour, not speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RaftkvClient } from '../../src/client/client'
import { RealCluster, until } from './real-cluster'

describe('a three-replica raftkv cluster of real processes', () => {
  const cluster = new RealCluster(3)
  let client: RaftkvClient

  beforeAll(async () => {
    await cluster.start()
    client = new RaftkvClient({ endpoints: cluster.endpoints, timeoutMs: 30_000 })
  })
  afterAll(async () => {
    client?.close()
    await cluster.stop()
  })

  it('elects a leader that every replica names, and confirms gets by ReadIndex', async () => {
    const leader = await cluster.leader()
    const status = await cluster.status(leader)
    expect(status).toMatchObject({ id: leader.id, role: 'leader', reads: 'readIndex' })
    expect(Object.keys(status!.followers ?? {}).sort()).toEqual(cluster.replicas.filter((r) => r !== leader).map((r) => r.id))
  })

  it('serves puts and gets through the HTTP API, from any replica', async () => {
    await client.put('greeting', 'hello, world')
    expect(await client.get('greeting')).toBe('hello, world')
    expect(await client.get('nobody')).toBeUndefined()
    // A follower redirects to the leader's client URL.
    const leader = await cluster.leader()
    const follower = cluster.replicas.find((r) => r !== leader)!
    const redirected = await fetch(`${cluster.url(follower)}/v1/kv/greeting`, { redirect: 'manual' })
    expect(redirected.status).toBe(307)
    expect(redirected.headers.get('location')).toBe(`${cluster.url(leader)}/v1/kv/greeting`)
    // The empty value is a value, not a missing key.
    await client.put('empty', '')
    expect(await client.get('empty')).toBe('')
  })

  it('serves puts and gets through the CLI', async () => {
    expect(await cluster.cli(['put', 'colour', 'blue'])).toMatchObject({ code: 0, stdout: 'OK\n' })
    expect(await cluster.cli(['get', 'colour'])).toMatchObject({ code: 0, stdout: 'blue\n' })
    const missing = await cluster.cli(['get', 'no-such-key'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('has no value')
  })

  it('applies a put retried with the same request ID once, and answers the retry', async () => {
    await client.put('counter', 'first', 'request-42')
    await client.put('counter', 'second')
    // The retry of the first put, after the second: it took effect already, so it changes nothing.
    await client.put('counter', 'first', 'request-42')
    expect(await client.get('counter')).toBe('second')
  })

  it('deletes, and compares-and-sets, through the HTTP API and the CLI', async () => {
    await client.put('doomed', 'soon gone')
    await client.delete('doomed')
    expect(await client.get('doomed')).toBeUndefined()
    // A delete of a key with no value is done too.
    await client.delete('doomed')
    expect(await client.cas('lock', undefined, 'holder-1')).toBe(true)
    expect(await client.cas('lock', undefined, 'holder-2')).toBe(false)
    expect(await client.cas('lock', 'holder-1', 'holder-3', 'cas-7')).toBe(true)
    expect(await client.get('lock')).toBe('holder-3')
    // The retry of a compare-and-set that wrote is answered as done, and writes nothing again.
    await client.put('lock', 'holder-4')
    expect(await client.cas('lock', 'holder-1', 'holder-3', 'cas-7')).toBe(true)
    expect(await client.get('lock')).toBe('holder-4')
    const failed = await fetch(`${cluster.url(await cluster.leader())}/v1/kv/lock?prev=holder-1`, { method: 'PUT', body: 'x' })
    expect(failed.status).toBe(412)
    expect(await failed.json()).toMatchObject({ error: 'compare_failed' })
    expect(await cluster.cli(['cas', 'lock', 'holder-4', 'holder-5'])).toMatchObject({ code: 0, stdout: 'OK\n' })
    expect(await cluster.cli(['cas', 'lock', 'holder-4', 'holder-6'])).toMatchObject({ code: 1 })
    expect(await cluster.cli(['delete', 'lock'])).toMatchObject({ code: 0, stdout: 'OK\n' })
    expect(await cluster.cli(['get', 'lock'])).toMatchObject({ code: 1 })
    expect(await cluster.cli(['cas', '--absent', 'lock', 'holder-7'])).toMatchObject({ code: 0, stdout: 'OK\n' })
    expect(await cluster.cli(['get', 'lock'])).toMatchObject({ code: 0, stdout: 'holder-7\n' })
    expect(await cluster.cli(['cas', '--absent', 'lock', 'holder-8'])).toMatchObject({ code: 1 })
    expect(await cluster.cli(['cas', 'lock', 'holder-7'])).toMatchObject({ code: 2 })
  })

  it("loses no acknowledged put when the leader is SIGKILLed, and the leader comes back from its data directory", async () => {
    const acknowledged = new Map<string, string>()
    for (let i = 0; i < 20; i++) {
      await client.put(`before-${i}`, `value-${i}`)
      acknowledged.set(`before-${i}`, `value-${i}`)
    }
    const leader = await cluster.leader()
    // Puts in flight while the leader dies: those acknowledged must survive.
    const inFlight = Array.from({ length: 10 }, (_, i) =>
      client.put(`during-${i}`, `value-${i}`).then(
        () => acknowledged.set(`during-${i}`, `value-${i}`),
        () => undefined,
      ),
    )
    await cluster.kill(leader)
    await Promise.all(inFlight)

    const next = await cluster.leader()
    expect(next).not.toBe(leader)
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
    await client.put('after', 'the new leader')

    cluster.startReplica(leader)
    // It recovers its log from disk and catches up: its own state machine holds every acknowledged put.
    await until('the restarted replica to catch up', async () => {
      const status = await cluster.status(leader)
      const nextStatus = await cluster.status(next)
      return status !== undefined && nextStatus !== undefined && status.appliedIndex >= nextStatus.commitIndex ? true : undefined
    })
    const stale = new RaftkvClient({ endpoints: [cluster.url(leader)] })
    try {
      for (const [key, value] of acknowledged) expect(await stale.get(key, { stale: true })).toBe(value)
      expect(await stale.get('after', { stale: true })).toBe('the new leader')
    } finally {
      stale.close()
    }
    expect(await client.get('after')).toBe('the new leader')
  })
})

describe('raftkv serve --reads lease', () => {
  const cluster = new RealCluster(3, ['--reads', 'lease'])
  afterAll(() => cluster.stop())

  // The lease stays an option of the real cluster (thesis §6.4.1); ReadIndex is the default.
  it('confirms gets with the lease when asked to, and serves puts and gets as the default does', async () => {
    await cluster.start()
    const client = new RaftkvClient({ endpoints: cluster.endpoints, timeoutMs: 30_000 })
    try {
      const leader = await cluster.leader()
      expect((await cluster.status(leader))?.reads).toBe('lease')
      await client.put('k', 'v')
      expect(await client.get('k')).toBe('v')
      expect(await client.get('no-such-key')).toBeUndefined()
    } finally {
      client.close()
    }
  })
})

describe('a one-replica cluster (as etcd allows a one-member cluster)', () => {
  const cluster = new RealCluster(1)
  afterAll(() => cluster.stop())

  it('elects itself, answers puts and gets, and keeps them across a SIGKILL and a restart', async () => {
    await cluster.start()
    const client = new RaftkvClient({ endpoints: cluster.endpoints, timeoutMs: 30_000 })
    try {
      const [only] = cluster.replicas
      expect(await cluster.leader()).toBe(only)
      await client.put('alone', 'and durable')
      expect(await client.get('alone')).toBe('and durable')
      await cluster.kill(only!)
      cluster.startReplica(only!)
      expect(await client.get('alone')).toBe('and durable')
    } finally {
      client.close()
    }
  })
})

describe('raftkv serve --snapshot-every', () => {
  const cluster = new RealCluster(1, ['--snapshot-every', '5'])
  afterAll(() => cluster.stop())

  // §7: the log is compacted once that many entries are applied past the last compaction point.
  it('compacts the log as often as asked, and a restart comes back from the snapshot and the log after it', async () => {
    await cluster.start()
    const client = new RaftkvClient({ endpoints: cluster.endpoints, timeoutMs: 30_000 })
    try {
      const [only] = cluster.replicas
      await cluster.leader()
      for (let i = 0; i < 12; i++) await client.put(`k${i}`, `v${i}`)
      const status = await cluster.status(only!)
      expect(status?.snapshotIndex).toBeGreaterThanOrEqual(5)
      await cluster.kill(only!)
      cluster.startReplica(only!)
      for (let i = 0; i < 12; i++) expect(await client.get(`k${i}`)).toBe(`v${i}`)
      expect((await cluster.status(only!))?.snapshotIndex).toBeGreaterThanOrEqual(5)
    } finally {
      client.close()
    }
  })
})

