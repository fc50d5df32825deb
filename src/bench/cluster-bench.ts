/**
 * `npm run bench:cluster` (its command line: src/cli/bench-cluster.ts): raftkv against etcd 3.4, side by side on this machine. Each system runs
 * as three real processes on loopback, durable (raftkv's group-committed data directory; etcd's
 * WAL, fsync on as by default), fresh for every measurement; the two alternate at each client count
 * in one sitting. The load is the same closed loop from the project's HTTP client (src/client):
 * C concurrent clients, each sending its next request as soon as the last is answered; 80% puts of
 * 100-byte values and 20% linearizable gets over 1,000 keys; counted after a warm-up. Reported:
 * operations per second, p50 and p99 latency, errors, and the CPU each process used (as a share of
 * one core) while counted.
 *
 * Against etcd it speaks the v3 JSON gateway (POST /v3/kv/put, /v3/kv/range; keys and values in
 * base64), to the leader. Without /usr/bin/etcd (`apt-get install etcd-server`), raftkv alone.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { RaftkvClient } from '../client/client'
import { freePort } from '../runtime/net/listen'
import { repoRoot } from '../sim/paths'
import { median, quantileOfSorted, sortedAscending } from '../stats/quantile'

export const ETCD = '/usr/bin/etcd'


export type System = 'raftkv' | 'etcd'

interface ProcessInfo {
  readonly name: string
  readonly child: ChildProcess
}

export interface Running {
  readonly system: System
  readonly processes: readonly ProcessInfo[]
  /** The leader's client URL, first: where the load goes. */
  readonly endpoints: readonly string[]
  readonly stop: () => Promise<void>
}

export interface Measurement {
  readonly system: System
  readonly clients: number
  readonly seconds: number
  readonly operations: number
  readonly errors: number
  readonly opsPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Each process's CPU while counted, as a share of one core. */
  readonly cpu: Readonly<Record<string, number>>
  readonly loadGeneratorCpu: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const postJson = async (url: string, body: unknown): Promise<unknown> => {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(2_000) })
  if (response.status !== 200) return undefined
  return response.json()
}

const stopAll = async (processes: readonly ProcessInfo[], dir: string): Promise<void> => {
  await Promise.all(
    processes.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGTERM')
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref()
        }),
    ),
  )
  fs.rmSync(dir, { recursive: true, force: true })
}

/** `profileDir`: each replica runs under V8's CPU profiler and writes its profile there when it stops. */
export const startRaftkv = async (profileDir?: string): Promise<Running> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raftkv-'))
  const members: { id: string; peer: number; client: number }[] = []
  for (let i = 1; i <= 3; i++) members.push({ id: `000${i}`, peer: await freePort(), client: await freePort() })
  const peers = members.map((m) => `${m.id}=127.0.0.1:${m.peer}/${m.client}`).join(',')
  const script = path.join(repoRoot(), 'dist/src/cli/raftkv.js')
  const processes = members.map((m) => ({
    name: `raftkv ${m.id}`,
    child: spawn(
      process.execPath,
      [...(profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `raftkv-${m.id}-${Date.now()}.cpuprofile`]), script, 'serve', '--id', m.id, '--peers', peers, '--data', dir],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  }))
  const leader = await until('a raftkv leader', async () => {
    for (const m of members) {
      const response = await fetch(`http://127.0.0.1:${m.client}/v1/status`, { signal: AbortSignal.timeout(2_000) })
      const status = (await response.json()) as { role: string; commitIndex: number }
      if (status.role === 'leader' && status.commitIndex > 0) return m
    }
    return undefined
  })
  const endpoints = [leader, ...members.filter((m) => m !== leader)].map((m) => `http://127.0.0.1:${m.client}`)
  return { system: 'raftkv', processes, endpoints, stop: () => stopAll(processes, dir) }
}

export const startEtcd = async (): Promise<Running> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-etcd-'))
  const members: { name: string; peer: number; client: number }[] = []
  for (let i = 1; i <= 3; i++) members.push({ name: `m${i}`, peer: await freePort(), client: await freePort() })
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',')
  const processes = members.map((m) => ({
    name: `etcd ${m.name}`,
    child: spawn(
      ETCD,
      [
        '--name', m.name,
        '--data-dir', path.join(dir, m.name),
        '--listen-client-urls', `http://127.0.0.1:${m.client}`,
        '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
        '--listen-peer-urls', `http://127.0.0.1:${m.peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
        '--initial-cluster', initialCluster,
        '--initial-cluster-token', `bench-${process.pid}`,
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  }))
  const leader = await until('an etcd leader', async () => {
    for (const m of members) {
      const status = (await postJson(`http://127.0.0.1:${m.client}/v3/maintenance/status`, {})) as
        | { header?: { member_id?: string }; leader?: string }
        | undefined
      if (status?.leader !== undefined && status.leader !== '0' && status.header?.member_id === status.leader) return m
    }
    return undefined
  })
  const endpoints = [leader, ...members.filter((m) => m !== leader)].map((m) => `http://127.0.0.1:${m.client}`)
  return { system: 'etcd', processes, endpoints, stop: () => stopAll(processes, dir) }
}

/** CPU seconds (user and system) a process has used: /proc/PID/stat's utime and stime. */
const cpuSeconds = (pid: number): number => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

interface Operations {
  readonly put: (key: string, value: string) => Promise<void>
  readonly get: (key: string) => Promise<void>
  readonly close: () => void
}

const raftkvOperations = (endpoints: readonly string[]): Operations => {
  const client = new RaftkvClient({ endpoints })
  return {
    put: (key, value) => client.put(key, value),
    get: async (key) => {
      await client.get(key)
    },
    close: () => client.close(),
  }
}

/** etcd's v3 JSON gateway through the same HTTP client (keep-alive, the same retries). */
const etcdOperations = (endpoints: readonly string[]): Operations => {
  const client = new RaftkvClient({ endpoints })
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64')
  const call = async (path: string, body: unknown): Promise<void> => {
    const r = await client.request('POST', path, JSON.stringify(body), undefined)
    if (r.status !== 200) throw new Error(`etcd ${path}: HTTP ${r.status}: ${r.body.slice(0, 200)}`)
  }
  return {
    put: (key, value) => call('/v3/kv/put', { key: b64(key), value: b64(value) }),
    // A range request is linearizable unless `serializable` is set.
    get: (key) => call('/v3/kv/range', { key: b64(key) }),
    close: () => client.close(),
  }
}

export const measure = async (
  running: Running,
  clients: number,
  options: { seconds: number; warmup: number; keys: number; valueBytes: number; getFraction: number },
): Promise<Measurement> => {
  const ops = running.system === 'raftkv' ? raftkvOperations(running.endpoints) : etcdOperations(running.endpoints)
  const keys = Array.from({ length: options.keys }, (_, i) => `key-${String(i).padStart(4, '0')}`)
  const value = (): string => randomBytes(Math.ceil(options.valueBytes / 2)).toString('hex').slice(0, options.valueBytes)
  const latencies: number[] = []
  let errors = 0
  let counting = false
  let stopping = false
  const worker = async (): Promise<void> => {
    while (!stopping) {
      const key = keys[Math.floor(Math.random() * keys.length)]!
      const isGet = Math.random() < options.getFraction
      const began = performance.now()
      try {
        if (isGet) await ops.get(key)
        else await ops.put(key, value())
        if (counting) latencies.push(performance.now() - began)
      } catch {
        if (counting) errors++
      }
    }
  }
  const workers = Array.from({ length: clients }, () => worker())
  await sleep(options.warmup * 1000)
  const pids = running.processes.map((p) => ({ name: p.name, pid: p.child.pid! }))
  const cpuBefore = pids.map((p) => cpuSeconds(p.pid))
  const selfBefore = process.cpuUsage()
  const began = performance.now()
  counting = true
  await sleep(options.seconds * 1000)
  counting = false
  const elapsed = (performance.now() - began) / 1000
  const cpuAfter = pids.map((p) => cpuSeconds(p.pid))
  const self = process.cpuUsage(selfBefore)
  stopping = true
  await Promise.all(workers)
  ops.close()
  const sorted = sortedAscending(latencies)
  const cpu: Record<string, number> = {}
  pids.forEach((p, i) => (cpu[p.name] = (cpuAfter[i]! - cpuBefore[i]!) / elapsed))
  return {
    system: running.system,
    clients,
    seconds: elapsed,
    operations: latencies.length,
    errors,
    opsPerSecond: latencies.length / elapsed,
    p50Ms: quantileOfSorted(sorted, 0.5) ?? Number.NaN,
    p99Ms: quantileOfSorted(sorted, 0.99) ?? Number.NaN,
    cpu,
    loadGeneratorCpu: (self.user + self.system) / 1e6 / elapsed,
  }
}

const pct = (share: number): string => `${Math.round(share * 100)}%`

export const row = (m: Measurement): string =>
  `| ${m.system} | ${m.clients} | ${Math.round(m.opsPerSecond).toLocaleString('en-US')} | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ${m.errors} | ${Object.values(m.cpu).map(pct).join(' / ')} | ${pct(m.loadGeneratorCpu)} |`

/** Per system and client count, in the order first measured: the median ops/s, p50 and p99 of its rounds. */
export const medianTable = (results: readonly Measurement[]): string => {
  const groups = new Map<string, Measurement[]>()
  for (const m of results) {
    const key = `${m.system} ${m.clients}`
    groups.set(key, [...(groups.get(key) ?? []), m])
  }
  const lines = ['| system | clients | rounds | ops/s | p50 ms | p99 ms | errors |', '| --- | --: | --: | --: | --: | --: | --: |']
  for (const ms of groups.values()) {
    const { system, clients } = ms[0]!
    lines.push(
      `| ${system} | ${clients} | ${ms.length} | ${Math.round(median(ms.map((m) => m.opsPerSecond))!).toLocaleString('en-US')} | ${median(ms.map((m) => m.p50Ms))!.toFixed(2)} | ${median(ms.map((m) => m.p99Ms))!.toFixed(2)} | ${ms.reduce((n, m) => n + m.errors, 0)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

