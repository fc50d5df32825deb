/**
 * What a check:sim run is given (its cluster, clients, network, faults and settings), how a sweep
 * varies them by seed, and what it returns: figures, and the first failure with its trace.
 */
import { defaultSettings, withSettings, type ReadStyle, type Settings } from '../domain/config'
import type { PersistentState, ReplicaState } from '../domain/state'
import type { ClientReply, ClientRequest, NodeId } from '../domain/wire'
import { isCheckerVerdict, type Operation } from './linearizability'
import { Rng } from './rng'
import { realStep, type Stepper } from './stepper'
import type { Workload } from './workload'

export interface NetworkOptions {
  readonly minDelayMs: number
  readonly maxDelayMs: number
  readonly dropRate: number
  readonly duplicateRate: number
}

export interface FaultOptions {
  readonly crashes: boolean
  readonly partitions: boolean
  /** Membership changes and leadership transfers, asked of the leader by an operator (default: none). */
  readonly membership?: boolean
  /** Mean time between fault events during the fault phase. */
  readonly meanIntervalMs: number
}

export interface SimOptions {
  readonly seed: number
  readonly replicas: number
  readonly clients: number
  /** Clients send requests and faults happen until then; afterwards everything heals. */
  readonly faultPhaseMs: number
  /** After the heal, a leader must exist and every owed reply must arrive within this. */
  readonly livenessBoundMs: number
  readonly requestIntervalMs: number
  readonly getFraction: number
  /** Keys of its own per client (`own`), or a few keys all clients share (`shared`); workload.ts. */
  readonly workload: Workload
  readonly keysPerClient: number
  readonly network: NetworkOptions
  readonly faults: FaultOptions
  readonly settings: Settings
  /** How leaders confirm gets (Settings.reads), over what `settings` says; undefined: as `settings` says. */
  readonly reads: ReadStyle | undefined
  readonly step: Stepper
  /** How many recent steps to keep for a failure's trace. */
  readonly traceCapacity: number
  /** A guard against runaway loops at one instant. */
  readonly maxSteps: number
  /** Persistent states the replicas boot with (as if restarted), e.g. the prefix of a known scenario. */
  readonly initialPersistent: readonly (PersistentState | undefined)[]
  /** Hash every event and effect (for determinism tests; slower). */
  readonly fingerprint: boolean
  /** Told what happens, for a timeline of the run (src/timeline); it only watches. */
  readonly observer: SimObserver | undefined
}

/**
 * What a timeline needs to see of a run. Called synchronously; it must not change anything it is
 * handed, and the run is the same with or without it (it draws no random numbers). Times in ms.
 */
export interface SimObserver {
  /** A replica took a step (booting included); `state` is its state after it. */
  stepped(at: number, replica: NodeId, state: ReplicaState): void
  crashed(at: number, replica: NodeId): void
  restarted(at: number, replica: NodeId): void
  /** The replicas are split into these groups from now on; null: whole again. */
  partitioned(at: number, groups: readonly (readonly NodeId[])[] | null): void
  /** Every fault healed and losses stopped: the end phase. */
  healedAll(at: number): void
  /** A replica-to-replica copy, delivered or dropped (by the partition or at random). */
  transmitted(at: number, from: NodeId, to: NodeId, fate: 'delivered' | 'partition' | 'random'): void
  /** The first attempt of a new client request. */
  requested(at: number, operation: Operation, request: ClientRequest): void
  /** The client resends under a new MID after a redirect or fail reply to `previousMid`. */
  retried(at: number, previousMid: string, request: ClientRequest): void
  /** A reply reaches a client. */
  replied(at: number, message: ClientReply): void
}

export const defaultSimOptions: SimOptions = {
  seed: 1,
  replicas: 3,
  clients: 4,
  faultPhaseMs: 20_000,
  livenessBoundMs: 20_000,
  requestIntervalMs: 100,
  getFraction: 0.6,
  workload: 'own',
  keysPerClient: 3,
  network: { minDelayMs: 1, maxDelayMs: 40, dropRate: 0.05, duplicateRate: 0.02 },
  faults: { crashes: true, partitions: true, meanIntervalMs: 2_000 },
  settings: defaultSettings,
  reads: undefined,
  step: realStep,
  traceCapacity: 120,
  maxSteps: 5_000_000,
  initialPersistent: [],
  fingerprint: false,
  observer: undefined,
}

/**
 * Options for one seed of a sweep: the network and fault mix vary with the seed, so that a sweep
 * covers calm runs, lossy runs, partitions and crashes.
 */
export const sweepOptions = (seed: number, base: Partial<SimOptions> = {}): SimOptions => {
  const rng = new Rng(seed ^ 0x5bd1e995)
  const replicas = base.replicas ?? rng.pick([3, 3, 3, 5, 5])
  const maxDelayMs = rng.pick([5, 20, 50, 150])
  const options: SimOptions = {
    ...defaultSimOptions,
    replicas,
    network: {
      minDelayMs: 1,
      maxDelayMs,
      dropRate: rng.pick([0, 0.01, 0.05, 0.2, 0.5]),
      duplicateRate: rng.pick([0, 0.02, 0.1]),
    },
    faults: {
      crashes: rng.chance(0.7),
      partitions: rng.chance(0.7),
      meanIntervalMs: rng.pick([500, 1_500, 4_000]),
    },
    requestIntervalMs: rng.pick([20, 100, 300]),
    ...base,
    seed,
  }
  // §7: most seeds compact their logs often, half send snapshots in pieces of 400 characters, so that
  // snapshots are taken, sent and restarted from under every fault. Drawn last: every seed keeps
  // the network and faults it had before snapshots existed.
  const snapshotEvery = rng.pick([4, 16, 64, defaultSettings.limits.snapshotEvery])
  const snapshotChunkChars = rng.pick([400, defaultSettings.limits.snapshotChunkChars])
  // Thesis ch. 4: half the seeds change the cluster's membership and move its leader, drawn after
  // the rest so that every seed keeps what it had before; options that name the faults keep theirs.
  const membership = rng.chance(0.5)
  const withMembership = base.faults === undefined ? { ...options, faults: { ...options.faults, membership } } : options
  return base.settings === undefined
    ? { ...withMembership, settings: withSettings(withMembership.settings, { limits: { snapshotEvery, snapshotChunkChars } }) }
    : withMembership
}

export interface SimFailure {
  readonly seed: number
  readonly at: number
  readonly invariant: string
  readonly detail: string
  readonly trace: string
}

export interface SimStats {
  steps: number
  simulatedMs: number
  operations: number
  completed: number
  duplicates: number
  redirects: number
  fails: number
  crashes: number
  /** Crashes in the middle of a step, and those of them that lost the step's unsynced write. */
  crashesInStep: number
  writesLost: number
  partitions: number
  /** Membership changes and leadership transfers the operator asked for, and those the leader carried out. */
  changes: number
  changesDone: number
  datagrams: number
  dropped: number
  maxTerm: number
  committed: number
}

/** The figures of a run before it starts. */
export const emptySimStats = (): SimStats => ({
  steps: 0,
  simulatedMs: 0,
  operations: 0,
  completed: 0,
  duplicates: 0,
  redirects: 0,
  fails: 0,
  crashes: 0,
  crashesInStep: 0,
  writesLost: 0,
  partitions: 0,
  changes: 0,
  changesDone: 0,
  datagrams: 0,
  dropped: 0,
  maxTerm: 0,
  committed: 0,
})

export interface SimResult {
  readonly seed: number
  readonly failure: SimFailure | undefined
  readonly stats: SimStats
  readonly fingerprint: number
}

export const describeFailure = (f: SimFailure): string =>
  `seed ${f.seed}: ${isCheckerVerdict(f.invariant) ? f.invariant : `${f.invariant} violated`} at t=${f.at} ms\n  ${f.detail}\nlast steps:\n${f.trace}`
