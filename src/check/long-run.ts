/**
 * A long run of check:sim's cluster (issue 10, §7): many puts through the reducer, with every
 * check on, sampling what each replica holds as it goes. A replica that compacts its log and
 * forgets old MIDs holds about as much after a million puts as after a hundred thousand.
 */
import { encodeSnapshot } from '../domain/kv'
import { lastIndex } from '../domain/log'
import type { ReplicaState } from '../domain/state'
import type { NodeId } from '../domain/wire'
import { ClusterSimulation, defaultSimOptions, type SimObserver, type SimOptions, type SimResult } from './cluster'

/** What one replica holds at a moment. */
export interface Holding {
  readonly replica: NodeId
  /** Log entries held (after the snapshot). */
  readonly entries: number
  readonly snapshotIndex: number
  /** MIDs remembered by the state machine. */
  readonly mids: number
  readonly keys: number
  readonly ownPuts: number
  /** What it holds as text: its log entries as JSON plus its state machine as a snapshot (KB). */
  readonly textKB: number
}

export interface Sample {
  /** Simulated milliseconds. */
  readonly at: number
  /** The highest index any replica has applied. */
  readonly applied: number
  /** The largest holding of each kind over the replicas. */
  readonly most: Omit<Holding, 'replica' | 'snapshotIndex'>
  /**
   * The process's heap after a full collection (node --expose-gc), in MB; undefined without gc.
   * It includes the checks' own records (every operation's history, every committed entry), which
   * grow with the run: the replicas' share is `most`.
   */
  readonly heapMB: number | undefined
}

export const holdingOf = (s: ReplicaState): Holding => ({
  replica: s.id,
  entries: lastIndex(s.persistent.log) - s.persistent.log.snapshotIndex,
  snapshotIndex: s.persistent.log.snapshotIndex,
  mids: s.kv.recentMids.size + s.kv.olderMids.size,
  keys: s.kv.values.size,
  ownPuts: s.ownPuts.size,
  textKB: (JSON.stringify(s.persistent.log.entries).length + encodeSnapshot(s.kv).length) / 1024,
})

export interface LongRunOptions {
  /** Puts to issue (about: the clients draw gets too, a tenth of the time). */
  readonly puts: number
  /** Take a sample each time this many more entries have been applied. */
  readonly sampleEvery: number
  readonly seed: number
  /** Called with each sample as it is taken. */
  readonly onSample?: (sample: Sample) => void
  /** Collects garbage before a heap reading, if the process allows it. */
  readonly gc?: () => void
}

/** One request every 1.5 ms on average (check:sim's clients draw 1 to 2 × the interval). */
const REQUEST_INTERVAL_MS = 1
const MEAN_REQUEST_GAP_MS = 1.5
const GET_FRACTION = 0.1

/**
 * Runs the cluster calm (3 replicas, no faults or losses) until about `puts` puts were issued,
 * sampling every `sampleEvery` applied entries.
 */
export const longRun = (o: LongRunOptions): { readonly result: SimResult; readonly samples: readonly Sample[] } => {
  const samples: Sample[] = []
  const latest = new Map<NodeId, ReplicaState>()
  let nextSampleAt = o.sampleEvery
  const take = (at: number, applied: number): void => {
    const holdings = [...latest.values()].map(holdingOf)
    const most = (pick: (h: Holding) => number): number => Math.max(0, ...holdings.map(pick))
    o.gc?.()
    const sample: Sample = {
      at,
      applied,
      most: {
        entries: most((h) => h.entries),
        mids: most((h) => h.mids),
        keys: most((h) => h.keys),
        ownPuts: most((h) => h.ownPuts),
        textKB: most((h) => h.textKB),
      },
      heapMB: o.gc === undefined ? undefined : process.memoryUsage().heapUsed / 2 ** 20,
    }
    samples.push(sample)
    o.onSample?.(sample)
  }
  const observer: SimObserver = {
    stepped: (at, replica, state) => {
      latest.set(replica, state)
      if (state.lastApplied >= nextSampleAt) {
        take(at, state.lastApplied)
        nextSampleAt += o.sampleEvery
      }
    },
    crashed: () => {},
    restarted: () => {},
    partitioned: () => {},
    healedAll: () => {},
    transmitted: () => {},
    requested: () => {},
    retried: () => {},
    replied: () => {},
  }
  const options: Partial<SimOptions> & { seed: number } = {
    seed: o.seed,
    replicas: 3,
    clients: 4,
    requestIntervalMs: REQUEST_INTERVAL_MS,
    getFraction: GET_FRACTION,
    faultPhaseMs: Math.ceil((o.puts / (1 - GET_FRACTION)) * MEAN_REQUEST_GAP_MS) + 1_000,
    network: { minDelayMs: 1, maxDelayMs: 2, dropRate: 0, duplicateRate: 0 },
    faults: { crashes: false, partitions: false, meanIntervalMs: defaultSimOptions.faults.meanIntervalMs },
    maxSteps: Number.MAX_SAFE_INTEGER,
    observer,
  }
  const result = new ClusterSimulation(options).run()
  return { result, samples }
}
