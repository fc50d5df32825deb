/**
 * One run of check:net: the topology made, the replicas started in their namespaces, the clients
 * started in theirs, the nemesis's schedule carried out while the clients record their history,
 * every fault healed, the cluster watched as it recovers, every key read a last time, everything
 * removed, and the history judged.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { onCleanup } from './cleanup'
import { installFilters } from './filters'
import * as E from 'fp-ts/Either'
import { readHistory } from '../history/jepsen'
import { judgeHistory } from './judge'
import { formatSchedule, makeSchedule } from './nemesis'
import { NemesisRunner } from './nemesis-runner'
import { ReplicaSupervisor, type ReplicaCommand } from './replicas'
import {
  createTopology,
  destroyTopology,
  namespaceSupportProblem,
  NamespacesUnavailable,
  planTopology,
  runPrefix,
  sweepStaleNamespaces,
  type Topology,
} from './topology'
import { verdict, type RunRecord } from './verdict'
import type { RoleSighting } from './leaders'
import { WorkerHandle, type ReplicaStatusReply } from './worker-handle'
import { DEFAULT_WORKLOAD, type WorkloadOptions } from './workload'

/** Exit codes of check:net. */
export const EXIT = {
  passed: 0,
  failed: 1,
  usage: 2,
  /** The harness could not run the cluster (no leader ever, a replica that would not start...). */
  harness: 3,
  /** Network namespaces cannot be made here (not root, no `ip` or `iptables`). */
  noNamespaces: 77,
} as const

export interface RunOptions {
  readonly seed: number
  readonly replicas: number
  readonly durationMs: number
  readonly warmupMs: number
  /** Fault-free time at the end, in which every client must be served again. */
  readonly recoveryMs: number
  /** Every client must be served again within this long after the faults heal. */
  readonly recoveryBoundMs: number
  readonly electionTimeoutMaxMs: number
  readonly replicaCommand: ReplicaCommand
  /** Each replica's client URL, given its host. */
  readonly clientUrl: (address: string) => string
  /** Moves a replica's clock ahead (a signal it understands, say); undefined: no clock jumps. */
  readonly jumpClock?: (supervisor: ReplicaSupervisor, replica: number, jumpMs: number) => void
  readonly workload?: Partial<Omit<WorkloadOptions, 'seed'>>
  readonly historyFile?: string
  /** Where the data directories and logs go (default: a new directory under the system's temp). */
  readonly workDir?: string
  /** Keep the work directory even when the run passes. */
  readonly keep?: boolean
  /** How long to wait for the first leader. */
  readonly startupMs?: number
  /** Whether the nemesis makes its targeted moves (default: yes, with five replicas). */
  readonly targeted?: boolean
  readonly out?: (line: string) => void
}

export interface RunResult {
  readonly code: number
  readonly text: string
  /** What failed the run, a line each (empty when it passed or never got to a verdict). */
  readonly failures: readonly string[]
  readonly historyFile: string
  readonly workDir: string
  /** What the run recorded, when it got to a verdict (for a timeline page). */
  readonly record?: RunRecord & { readonly roles: readonly RoleSighting[]; readonly passed: boolean; readonly failures: readonly string[] }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The replica that leads, from each replica's /v1/status: the highest term's self-declared leader. */
export const leaderOf = (replies: readonly ReplicaStatusReply[]): number | undefined => {
  let best: { index: number; term: number } | undefined
  for (const reply of replies) {
    const s = reply.status as { role?: unknown; term?: unknown } | undefined
    if (s === undefined || s.role !== 'leader') continue
    const term = typeof s.term === 'number' ? s.term : 0
    if (best === undefined || term > best.term) best = { index: reply.index, term }
  }
  return best?.index
}

export const runCheck = async (options: RunOptions): Promise<RunResult> => {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`))
  const fail = (code: number, text: string): RunResult => {
    out(text)
    return { code, text, failures: [], historyFile: options.historyFile ?? '', workDir: options.workDir ?? '' }
  }
  const problem = namespaceSupportProblem()
  if (problem !== undefined) return fail(EXIT.noNamespaces, `check:net: cannot run: ${problem}`)
  const swept = sweepStaleNamespaces()
  if (swept.length > 0) out(`removed ${swept.length} namespaces left by earlier runs that died: ${swept.join(' ')}`)

  const tag = Math.floor(Math.random() * 0xffff).toString(36)
  const workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `rkvnet-${process.pid}-`))
  const topology: Topology = planTopology({ prefix: runPrefix(process.pid, tag), replicas: options.replicas, workDir })
  const historyFile = path.resolve(options.historyFile ?? path.join(workDir, 'history.jsonl'))
  let supervisor: ReplicaSupervisor | undefined
  let worker: WorkerHandle | undefined
  const removeAll = onCleanup(() => {
    supervisor?.killAllNow()
    worker?.kill()
    destroyTopology(topology)
  })

  try {
    try {
      createTopology(topology)
    } catch (error) {
      if (error instanceof NamespacesUnavailable) return fail(EXIT.noNamespaces, `check:net: cannot run: ${error.message}`)
      throw error
    }
    installFilters(topology)
    out(`topology: ${topology.replicas.map((r) => `${r.id}=${r.address}`).join(' ')}, clients ${topology.clients.address}; namespaces ${topology.prefix}*; work directory ${workDir}`)

    const schedule = makeSchedule({
      seed: options.seed,
      replicas: options.replicas,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      recoveryMs: options.recoveryMs,
      electionTimeoutMaxMs: options.electionTimeoutMaxMs,
      clockJumps: options.jumpClock !== undefined,
      targeted: options.targeted ?? true,
    })
    out(formatSchedule(schedule))
    out(`recovery bound: once every fault has healed (${(schedule.healBy / 1000).toFixed(1)}s), every client must be served again within ${options.recoveryBoundMs / 1000}s`)

    supervisor = new ReplicaSupervisor(topology, options.replicaCommand)
    supervisor.startAll()
    const workload: WorkloadOptions = { ...DEFAULT_WORKLOAD, ...options.workload, seed: options.seed }
    worker = new WorkerHandle(
      topology.clients,
      { workload, endpoints: topology.replicas.map((r) => options.clientUrl(r.address)), historyFile },
      path.join(workDir, 'clients.log'),
    )

    const startupDeadline = Date.now() + (options.startupMs ?? 60_000)
    let leader: number | undefined
    while (leader === undefined && Date.now() < startupDeadline) {
      if (supervisor.unexpectedExits.length > 0) break
      leader = leaderOf(await worker.status())
      if (leader === undefined) await sleep(250)
    }
    if (leader === undefined) {
      const why = supervisor.unexpectedExits.map((e) => `${e.replica} exited (code ${e.code}, signal ${e.signal}):\n${e.tail}`).join('\n')
      return fail(EXIT.harness, `check:net: no leader was elected within ${(options.startupMs ?? 60_000) / 1000}s of starting the replicas${why === '' ? '' : `\n${why}`}\n(logs in ${workDir})`)
    }
    out(`r${leader} leads; the clients start (${workload.keys.length} keys, ${workload.clientsPerKey} clients each)`)

    const origin = performance.now()
    const now = (): number => performance.now() - origin
    await worker.start(performance.timeOrigin + origin)
    const sup = supervisor
    const w = worker
    const nemesis = new NemesisRunner(schedule, topology, sup, {
      findLeader: async () => leaderOf(await w.status()),
      ...(options.jumpClock === undefined ? {} : { jumpClock: (replica: number, ms: number) => options.jumpClock!(sup, replica, ms) }),
      aimReads: (replica) => w.aim(replica),
      aimedWritesOk: () => w.aimedWritesOk(),
      terms: async (replicas) => new Map((await w.status(replicas)).flatMap((r) => (typeof (r.status as { term?: unknown } | undefined)?.term === 'number' ? [[r.index, { term: (r.status as { term: number }).term, role: String((r.status as { role?: unknown }).role) }]] : []))),
      log: out,
      now,
    })
    await nemesis.run(new AbortController().signal)
    const healedAtMs = now()
    out(`${(healedAtMs / 1000).toFixed(1).padStart(6)}s  every fault healed; the clients go on for ${((options.durationMs - healedAtMs) / 1000).toFixed(1)}s`)
    await sleep(Math.max(0, options.durationMs - now()))
    const { reads: finals, leaders, roles } = await worker.stop(15_000)
    await supervisor.stopAll()

    const read = readHistory(historyFile)
    if (E.isLeft(read)) return fail(EXIT.harness, `check:net: the history cannot be read back: ${read.left}`)
    const operations = read.right
    const checker = judgeHistory(operations)
    const record: RunRecord = {
      seed: options.seed,
      durationMs: options.durationMs,
      operations,
      faults: nemesis.applied,
      finals,
      unexpectedExits: supervisor.unexpectedExits,
      clients: workload.keys.length * workload.clientsPerKey,
      healedAtMs,
      recoveryBoundMs: options.recoveryBoundMs,
      checker,
      leaders,
    }
    const result = verdict(record)
    out(result.text)
    out(`history: ${historyFile}`)
    const code = result.passed ? EXIT.passed : EXIT.failed
    removeAll()
    if (result.passed && options.keep !== true && options.workDir === undefined) fs.rmSync(workDir, { recursive: true, force: true })
    else out(`logs and data directories kept in ${workDir}`)
    return { code, text: result.text, failures: result.failures, historyFile, workDir, record: { ...record, roles, passed: result.passed, failures: result.failures } }
  } finally {
    removeAll()
  }
}
