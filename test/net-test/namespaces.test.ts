/**
 * The harness's network on this machine: real namespaces, veths, a bridge and packet filters.
 * Needs root (CI runs as root); elsewhere these tests are skipped with the reason.
 */
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyNetworkState, HEALTHY, installFilters, linksBetween, listRules } from '../../src/net-test/filters'
import {
  createTopology,
  destroyTopology,
  listNamespaces,
  namespaceSupportProblem,
  planTopology,
  runPrefix,
  sweepStaleNamespaces,
  type Topology,
} from '../../src/net-test/topology'

const problem = namespaceSupportProblem()
const fixture = (name: string): string => path.join(__dirname, 'fixtures', name)

/** From a namespace, whether a TCP connection to address:port opens within a second ('ok' or the error's code). */
const connect = (namespace: string, address: string, port: number): string => {
  const script = `const s=require('net').connect(${port},'${address}');s.setTimeout(1000,()=>{console.log('timeout');process.exit()});s.on('connect',()=>{console.log('ok');process.exit()});s.on('error',e=>{console.log(e.code);process.exit()})`
  return spawnSync('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], { encoding: 'utf8' }).stdout.trim()
}

/** A TCP listener in a namespace, dying with the test. */
const listen = (namespace: string, address: string, port: number): Promise<() => void> =>
  new Promise((resolve) => {
    const script = `require('net').createServer(s=>s.end()).listen(${port},'${address}',()=>console.log('listening'))`
    const child = spawn('ip', ['netns', 'exec', namespace, 'setpriv', '--pdeathsig', 'KILL', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout.once('data', () => resolve(() => child.kill('SIGKILL')))
  })

const ours = (prefix: string): string[] => listNamespaces().filter((n) => n.startsWith(prefix))

describe.skipIf(problem !== undefined)(`the test's network${problem === undefined ? '' : ` (skipped: ${problem})`}`, () => {
  let topology: Topology
  let stopListeners: Array<() => void> = []

  beforeAll(async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rkvnet-test-'))
    topology = planTopology({ prefix: runPrefix(process.pid, 'topo'), replicas: 3, workDir })
    createTopology(topology)
    installFilters(topology)
    stopListeners = await Promise.all(topology.replicas.map((r) => listen(r.namespace, r.address, 9000)))
  })

  afterAll(() => {
    for (const stop of stopListeners) stop()
    destroyTopology(topology)
    fs.rmSync(topology.workDir, { recursive: true, force: true })
  })

  it('gives each replica and the clients a namespace of their own, with their address, joined through a bridge', () => {
    expect(ours(topology.prefix).sort()).toEqual([topology.bridgeNamespace, topology.clients.namespace, ...topology.replicas.map((r) => r.namespace)].sort())
    for (const r of topology.replicas) expect(fs.statSync(r.dataDir).isDirectory()).toBe(true)
    expect(connect(topology.replicas[0]!.namespace, topology.replicas[1]!.address, 9000)).toBe('ok')
    expect(connect(topology.clients.namespace, topology.replicas[2]!.address, 9000)).toBe('ok')
  })

  it('routes nothing beyond 10.77.0.0/24: no default route, an outside address is unreachable', () => {
    for (const host of [topology.clients, ...topology.replicas]) {
      const routes = spawnSync('ip', ['-n', host.namespace, 'route'], { encoding: 'utf8' }).stdout.trim().split('\n')
      expect(routes).toEqual([`10.77.0.0/24 dev eth0 proto kernel scope link src ${host.address} `.trim()])
    }
    expect(connect(topology.replicas[0]!.namespace, '10.78.0.1', 9000)).toBe('ENETUNREACH')
  })

  it('cuts a link both ways with packet-filter rules and restores it when healed', async () => {
    const [r1, r2, r3] = topology.replicas as [Topology['replicas'][0], Topology['replicas'][0], Topology['replicas'][0]]
    await applyNetworkState(topology, { cut: linksBetween([1], [2]), lossy: [{ link: [2, 3], probability: 0.25 }] })
    expect(listRules(r1)).toEqual([`-A RKVNET -s ${r2.address}/32 -j DROP`])
    expect(listRules(r2)).toEqual([
      `-A RKVNET -s ${r1.address}/32 -j DROP`,
      `-A RKVNET -s ${r3.address}/32 -m statistic --mode random --probability 0.25000000000 -j DROP`,
    ])
    expect(connect(r1.namespace, r2.address, 9000)).toBe('timeout')
    expect(connect(r2.namespace, r1.address, 9000)).toBe('timeout')
    expect(connect(r1.namespace, r3.address, 9000)).toBe('ok')
    // Clients reach every replica whatever the replicas' partition.
    expect(connect(topology.clients.namespace, r1.address, 9000)).toBe('ok')
    await applyNetworkState(topology, HEALTHY)
    for (const r of topology.replicas) expect(listRules(r)).toEqual([])
    expect(connect(r1.namespace, r2.address, 9000)).toBe('ok')
  })

  it('cuts a link one way: what r1 opens to r2 gets nowhere, what r2 opens to r1 works both ways', async () => {
    const [r1, r2] = topology.replicas as [Topology['replicas'][0], Topology['replicas'][0]]
    await applyNetworkState(topology, { cut: [], lossy: [], oneWay: [[1, 2]] })
    expect(listRules(r2)).toEqual([`-A RKVNET -s ${r1.address}/32 -m conntrack --ctdir ORIGINAL -j DROP`])
    expect(listRules(r1)).toEqual([])
    expect(connect(r1.namespace, r2.address, 9000)).toBe('timeout')
    // The handshake's answer from r1 is let through.
    expect(connect(r2.namespace, r1.address, 9000)).toBe('ok')
    await applyNetworkState(topology, HEALTHY)
    expect(connect(r1.namespace, r2.address, 9000)).toBe('ok')
  })
})

describe.skipIf(problem !== undefined)('removing the network however the harness ends', () => {
  const hold = async (signal: NodeJS.Signals): Promise<string> => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rkvnet-test-'))
    const child = spawn(process.execPath, [fixture('hold-topology.js'), workDir], { stdio: ['ignore', 'pipe', 'inherit'] })
    const prefix = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())))
    expect(ours(prefix)).toHaveLength(5)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    await exited
    fs.rmSync(workDir, { recursive: true, force: true })
    return prefix
  }

  it('removes every namespace, and the processes in them, on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const prefix = await hold(signal)
      expect(ours(prefix), signal).toEqual([])
    }
  })

  it('leaves a SIGKILLed run\'s namespaces for the next run to sweep, processes and all; a living run\'s are left alone', async () => {
    const prefix = await hold('SIGKILL')
    expect(ours(prefix)).toHaveLength(5)
    const stranded = spawnSync('ip', ['netns', 'pids', `${prefix}r1`], { encoding: 'utf8' }).stdout.trim()
    expect(stranded).not.toBe('')
    const alive = planTopology({ prefix: runPrefix(process.ppid, 'live'), replicas: 1, workDir: fs.mkdtempSync(path.join(os.tmpdir(), 'rkvnet-test-')) })
    createTopology(alive)
    try {
      const swept = sweepStaleNamespaces()
      expect(swept.filter((n) => n.startsWith(prefix))).toHaveLength(5)
      expect(ours(prefix)).toEqual([])
      expect(ours(alive.prefix)).toHaveLength(3)
      for (const pid of stranded.split(/\s+/)) expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false)
    } finally {
      destroyTopology(alive)
      fs.rmSync(alive.workDir, { recursive: true, force: true })
    }
  })
})
