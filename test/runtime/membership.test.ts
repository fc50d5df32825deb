/**
 * Membership changes and leadership transfer on a running cluster of real processes (issue 26):
 * a dead replica is replaced (removed; a new one added as a learner, joining with `raftkv serve
 * --join`, then promoted) while puts and gets go on, nothing acknowledged is lost; then every
 * replica is stopped and restarted in turn, and comes back with the configuration of its log
 * whatever its command line says of the members; `raftkv leader transfer` moves the leadership.
 * Generous bounds: the machine is shared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RaftkvClient } from '../../src/client/client'
import { freePort, RealCluster, until, type ReplicaProcess } from './real-cluster'

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
  let dead: ReplicaProcess | undefined

  /** Once `r` uses `voters` (and no learner), follows a leader and has applied every acknowledged write. */
  const caughtUp = (r: ReplicaProcess, voters: readonly string[]): Promise<true> =>
    until(`${r.id} to serve with voters ${voters.join(',')}`, async () => {
      const status = await cluster.status(r)
      if (status === undefined || status.leader === undefined || status.voters.join(',') !== voters.join(',') || status.learners.length > 0) return undefined
      const local = new RaftkvClient({ endpoints: [cluster.url(r)], timeoutMs: 5_000 })
      try {
        for (const [key, value] of acknowledged) if ((await local.get(key, { stale: true })) !== value) return undefined
        return true
      } finally {
        local.close()
      }
    }, 90_000)

  /** `./raftkv serve <args>` run to its exit, for a start that must be refused. */
  const refusedStart = async (r: ReplicaProcess, args: readonly string[]): Promise<{ code: number | null; output: string }> => {
    const probe: ReplicaProcess = { ...r, child: undefined, output: '' }
    cluster.serve(probe, args)
    const code = await until('the refused start to exit', () => probe.child!.exitCode ?? undefined, 60_000)
    return { code, output: probe.output }
  }

  it('removes a killed replica, adds a new one as a learner that joins, promotes it, and loses nothing acknowledged', async () => {
    for (let i = 0; i < 5; i++) await put(`before-${i}`, `v${i}`)
    const leader = await cluster.leader()
    dead = cluster.replicas.find((r) => r !== leader)!
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
    cluster.serve(fresh, ['--id', '4', '--join', cluster.url(living), '--peers', `4=127.0.0.1:${fresh.peerPort}/${fresh.clientPort}`, '--data', cluster.dataDir])
    cluster.replicas.push(fresh)

    // Promotion waits until the learner holds everything committed (the leader says "try again": the CLI retries).
    const promoted = await cluster.cli(['member', 'promote', '4', ...LONG])
    expect(promoted.code, `${promoted.stderr}\n${fresh.output}`).toBe(0)
    expect(promoted.stdout).toMatch(/0004\s+voter/)
    expect(promoted.stdout).not.toContain('learner')

    await put('after-promote', 'y')
    // The new replica is a voter of the new configuration, and its state machine holds every acknowledged write.
    await caughtUp(fresh, cluster.replicas.filter(RealCluster.alive).map((r) => r.id).sort())
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 240_000)

  it('then every replica, stopped and restarted in turn with the obvious command, comes back with the configuration of its log', async () => {
    // Thesis §4.1: "a server always uses the latest configuration in its log". The command line's
    // members only bootstrap a new data directory (as etcd's --initial-cluster).
    const living = cluster.replicas.filter(RealCluster.alive)
    const voters = living.map((r) => r.id).sort()
    expect(voters).toHaveLength(3)
    expect(voters).toContain('0004')
    expect(voters).not.toContain(dead!.id)
    const [first, second] = living.filter((r) => r.id !== '0004')
    const fresh = living.find((r) => r.id === '0004')!
    const restarts: { readonly r: ReplicaProcess; readonly how: string; readonly start: () => void }[] = [
      // The command it was first started with: --peers names the dead replica, not the new one.
      { r: first!, how: 'its first command', start: () => cluster.startReplica(first!) },
      // The members as they are now.
      { r: second!, how: 'the members of now', start: () => cluster.serve(second!, ['--id', second!.id, '--peers', living.map((m) => cluster.peerEntry(m)).join(','), '--data', cluster.dataDir]) },
      // The joined replica, without --join; and with it, naming the dead replica: a restart does not ask.
      { r: fresh, how: 'no --join', start: () => cluster.serve(fresh, ['--id', '4', '--peers', cluster.peerEntry(fresh), '--data', cluster.dataDir]) },
      // The other replicas' first command, which does not name it.
      { r: fresh, how: 'the first --peers', start: () => cluster.serve(fresh, ['--id', '4', '--peers', cluster.peersArg, '--data', cluster.dataDir]) },
      { r: fresh, how: 'its first command, --join naming a dead replica', start: () => cluster.serve(fresh, ['--id', '4', '--join', cluster.url(dead!), '--peers', cluster.peerEntry(fresh), '--data', cluster.dataDir]) },
    ]
    const said = new Map<string, string>()
    for (const { r, how, start } of restarts) {
      await cluster.kill(r, 'SIGTERM')
      r.output = ''
      start()
      await caughtUp(r, voters).catch((error: Error) => {
        throw new Error(`${r.id} restarted with ${how}: ${error.message}\n${r.output}`)
      })
      await put(`after-restart-${r.id}-${how}`, how)
      said.set(how, r.output)
    }
    // What each start said it did not use of its command line.
    expect(said.get('its first command')).toContain('whose configuration is voters ' + voters.join(',') + ' (from its log); the members given (0001,0002,0003) are not used')
    expect(said.get('the first --peers')).toContain('the members given (0001, 0002, 0003) do not name this replica;')
    expect(said.get('its first command, --join naming a dead replica')).toContain('holds this replica: it restarts from its log, and does not ask')
    expect(said.get('the members of now')).not.toContain('not used')

    // A replica started with other addresses than its own in the cluster: another cluster's directory, or a moved
    // replica (the other members would not find it). Refused with exit code 3; nothing is changed.
    await cluster.kill(second!, 'SIGTERM')
    const moved = await refusedStart(second!, ['--id', second!.id, '--peers', `${second!.id}=127.0.0.1:${second!.peerPort}/${await freePort()}`, '--data', cluster.dataDir])
    expect(moved.code, moved.output).toBe(3)
    expect(moved.output).toMatch(new RegExp(`replica ${second!.id} of the cluster recorded in .* is at peer 127\\.0\\.0\\.1:${second!.peerPort}, client 127\\.0\\.0\\.1:${second!.clientPort}; given now: peer`))
    expect(moved.output).toContain('what to do: ')
    // And a directory that holds no replica of that ID, with no cluster given: a usage error.
    const empty = await refusedStart(second!, ['--id', '9', '--data', cluster.dataDir])
    expect(empty.code, empty.output).toBe(2)
    expect(empty.output).toContain('the data directory holds no replica of this ID yet')
    // The data directory alone says who and where the members are.
    cluster.serve(second!, ['--id', second!.id, '--data', cluster.dataDir])
    await caughtUp(second!, voters)

    const members = await cluster.cli(['member', 'list', ...LONG])
    expect(members.code, members.stderr).toBe(0)
    expect(members.stdout.match(/voter/g)).toHaveLength(3)
    for (const id of voters) expect(members.stdout).toMatch(new RegExp(`${id}\\s+voter`))
    expect(members.stdout).not.toContain(dead!.id)
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 480_000)

  it('a leader transfer moves the leadership to the voter named', async () => {
    const leader = await cluster.leader()
    const target = cluster.replicas.find((r) => r !== leader && RealCluster.alive(r))!
    const moved = await cluster.cli(['leader', 'transfer', target.id, ...LONG])
    expect(moved.code, moved.stderr).toBe(0)
    await until('the target to lead', async () => ((await cluster.leader()) === target ? true : undefined), 60_000)
    await put('after-transfer', 'z')
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 180_000)

  it('a removed replica refuses client requests with a clear error', async () => {
    const leader = await cluster.leader()
    const removed = cluster.replicas.find((r) => r !== leader && RealCluster.alive(r))!
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
    // Restarted, it still knows it was removed (from its log), and says so.
    await cluster.kill(removed, 'SIGTERM')
    cluster.serve(removed, ['--id', removed.id, '--data', cluster.dataDir])
    let last = ''
    await until('the restarted removed replica to refuse', async () => {
      try {
        const response = await fetch(`${cluster.url(removed)}/v1/kv/before-0`, { signal: AbortSignal.timeout(5_000) })
        const text = await response.text()
        last = `${response.status} ${text} ${JSON.stringify(await cluster.status(removed))}`
        return response.status === 503 && text.includes('not a member') ? true : undefined
      } catch (error) {
        last = String(error)
        return undefined
      }
    }, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${last}\n${removed.output}`)
    })
    // The cluster goes on without it.
    await put('after-second-remove', 'w')
    for (const [key, value] of acknowledged) expect(await client.get(key)).toBe(value)
  }, 120_000)
})
