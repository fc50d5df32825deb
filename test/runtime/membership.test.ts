/**
 * Membership changes and leadership transfer on a running cluster of real processes (issue 26):
 * a dead replica is replaced (removed; a new one added as a learner, joining with `raftkv serve
 * --join`, then promoted) while puts and gets go on, nothing acknowledged is lost, and `raftkv
 * leader transfer` moves the leadership. Generous bounds: the machine is shared.
 */
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RaftkvClient } from '../../src/client/client'
import { freePort, RAFTKV, RealCluster, until, type ReplicaProcess } from './real-cluster'

const LONG = ['--timeout', '60']

describe('replacing a dead replica, and moving the leader, in a running raftkv cluster', () => {
  const cluster = new RealCluster(3)
  let client: RaftkvClient
  const acknowledged = new Map<string, string>()

  beforeAll(async () => {
    await cluster.start()
    client = new RaftkvClient({ endpoints: cluster.endpoints, timeoutMs: 60_000 })
  })
  afterAll(async () => {
    client?.close()
    await cluster.stop()
  })

  const put = async (key: string, value: string): Promise<void> => {
    await client.put(key, value)
    acknowledged.set(key, value)
  }

  it('removes a killed replica, adds a new one as a learner that joins, promotes it, and loses nothing acknowledged', async () => {
    for (let i = 0; i < 5; i++) await put(`before-${i}`, `v${i}`)
    const leader = await cluster.leader()
    const dead = cluster.replicas.find((r) => r !== leader)!
    await cluster.kill(dead)

    const removed = await cluster.cli(['member', 'remove', dead.id, ...LONG])
    expect(removed.stderr).toBe('')
    expect(removed.code).toBe(0)
    expect(removed.stdout).not.toContain(dead.id)
    await put('after-remove', 'x')

    const fresh: ReplicaProcess = { id: '0004', peerPort: await freePort(), clientPort: await freePort(), child: undefined, output: '' }
    const added = await cluster.cli(['member', 'add', '4', '--peer', `127.0.0.1:${fresh.peerPort}`, '--client', `127.0.0.1:${fresh.clientPort}`, ...LONG])
    expect(added.code).toBe(0)
    expect(added.stdout).toMatch(/0004\s+learner\s+peer 127\.0\.0\.1:\d+\s+client 127\.0\.0\.1:\d+/)

    const living = cluster.replicas.find((r) => r !== dead)!
    const child = spawn(
      RAFTKV,
      ['serve', '--id', '4', '--join', cluster.url(living), '--peers', `4=127.0.0.1:${fresh.peerPort}/${fresh.clientPort}`, '--data', cluster.dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    )
    fresh.child = child
    child.stdout!.on('data', (chunk: Buffer) => (fresh.output += chunk.toString('utf8')))
    child.stderr!.on('data', (chunk: Buffer) => (fresh.output += chunk.toString('utf8')))
    cluster.replicas.push(fresh)

    // Promotion waits until the learner holds everything committed (the leader says "try again": the CLI retries).
    const promoted = await cluster.cli(['member', 'promote', '4', ...LONG])
    expect(promoted.code, `${promoted.stderr}\n${fresh.output}`).toBe(0)
    expect(promoted.stdout).toMatch(/0004\s+voter/)
    expect(promoted.stdout).not.toContain('learner')

    await put('after-promote', 'y')
    // The new replica's state machine holds every acknowledged write.
    await until('the new replica to apply everything acknowledged', async () => {
      const local = new RaftkvClient({ endpoints: [cluster.url(fresh)], timeoutMs: 5_000 })
      try {
        for (const [key, value] of acknowledged) if ((await local.get(key, { stale: true })) !== value) return undefined
        return true
      } finally {
        local.close()
      }
    }, 60_000)
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 240_000)

  it('a leader transfer moves the leadership to the voter named', async () => {
    const leader = await cluster.leader()
    const target = cluster.replicas.find((r) => r !== leader && r.child !== undefined && r.child.exitCode === null && r.child.signalCode === null)!
    const moved = await cluster.cli(['leader', 'transfer', target.id, ...LONG])
    expect(moved.code, moved.stderr).toBe(0)
    await until('the target to lead', async () => ((await cluster.leader()) === target ? true : undefined), 60_000)
    await put('after-transfer', 'z')
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 180_000)

  it('a removed replica refuses client requests with a clear error', async () => {
    const leader = await cluster.leader()
    const removed = cluster.replicas.find((r) => r !== leader && r.child !== undefined && r.child.exitCode === null && r.child.signalCode === null)!
    const result = await cluster.cli(['member', 'remove', removed.id, ...LONG])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.match(/voter/g)).toHaveLength(2)
    const answer = await until('the removed replica to know it was removed', async () => {
      const response = await fetch(`${cluster.url(removed)}/v1/kv/before-0`, { signal: AbortSignal.timeout(5_000) })
      const body = await response.text()
      return response.status === 503 && body.includes('not a member') ? body : undefined
    }, 60_000)
    expect(JSON.parse(answer)).toMatchObject({ error: 'refused' })
    expect(JSON.parse(answer).message).toContain(`replica ${removed.id} is not a member of the cluster`)
    // The cluster goes on without it.
    await put('after-second-remove', 'w')
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 120_000)
})
