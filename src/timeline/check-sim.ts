/**
 * A timeline of one check:sim seed: the run is repeated with an observer (the simulation is
 * deterministic, so it is the same run), which reads each replica's role and term from its state.
 */
import { ClusterSimulation, type SimFailure, type SimObserver, type SimOptions, type SimResult } from '../check/cluster'
import { checkLinearizable, type Operation } from '../history/linearizability'
import { replicaIds } from '../domain/ids'
import type { ReplicaState } from '../domain/state'
import { offendingOperation, toFailureOperation } from './blame'
import type { Failure, LaneRole, TimelineData } from './model'
import { TimelineRecorder } from './recorder'

export interface CheckSimTimeline {
  readonly result: SimResult
  readonly data: TimelineData
}

/** `playground`: a line saying how to step through this seed in the playground, for the page's summary. */
export function checkSimTimeline(options: SimOptions, label = '', playground?: string): CheckSimTimeline {
  const ids = replicaIds(options.replicas)
  const recorder = new TimelineRecorder(ids, 100, 'down')
  const observer = new Observer(recorder)
  const sim = new ClusterSimulation({ ...options, observer })
  const result = sim.run()
  if (result.failure?.invariant === 'Get returns the latest acknowledged put' && observer.lastReplyMid !== undefined) {
    recorder.flagIncorrect(observer.lastReplyMid)
  }
  // A run stops at its failure: 10 ms more of the axis show the states the failing step left.
  const end = Math.max(result.stats.simulatedMs + (result.failure === undefined ? 0 : 10), 1)
  const n = options.network
  const s = result.stats
  const data = recorder.build(end, {
    title: `check:sim seed ${options.seed}${label === '' ? '' : ` (${label})`}: ${result.failure === undefined ? 'passed' : `FAILED (${result.failure.invariant})`}`,
    subtitle:
      `${options.replicas} replicas, ${options.clients} clients, faults until ${options.faultPhaseMs / 1000} s; ` +
      `network delay ${n.minDelayMs}–${n.maxDelayMs} ms, drops ${n.dropRate}, duplicates ${n.duplicateRate}; ` +
      `crashes ${options.faults.crashes ? 'on' : 'off'}, partitions ${options.faults.partitions ? 'on' : 'off'}`,
    source: 'check:sim',
    rolesInferred: false,
    summary: [
      `${s.steps} steps over ${(s.simulatedMs / 1000).toFixed(1)} simulated s; highest term ${s.maxTerm}; ${s.committed} entries committed`,
      `${s.operations} client requests, ${s.completed} completed; ${s.redirects} redirects, ${s.fails} fail replies, ${s.duplicates} duplicate oks ` +
        '(a resent request answered again: allowed, a put is applied once per request ID)',
      `${s.datagrams} replica-to-replica datagrams, ${s.dropped} dropped; ${s.crashes} crashes, ${s.partitions} partitions`,
      ...(playground === undefined ? [] : [playground]),
    ],
    failure: result.failure === undefined ? null : describe(result.failure, sim.history(), observer.lastReplyMid),
  })
  return { result, data }
}

class Observer implements SimObserver {
  lastReplyMid: string | undefined
  private readonly opsByMid = new Map<string, Operation>()

  constructor(private readonly recorder: TimelineRecorder) {}

  stepped(at: number, replica: string, state: ReplicaState): void {
    this.recorder.setRole(at, replica, state.role as LaneRole, state.persistent.currentTerm)
  }

  crashed(at: number, replica: string): void {
    this.recorder.down(at, replica, 'crashed', `${replica} crashed (it keeps its persistent state)`)
  }

  restarted(at: number, replica: string): void {
    this.recorder.mark(at, replica, 'restarted', `${replica} restarted from its persistent state`)
  }

  partitioned(at: number, groups: readonly (readonly string[])[] | null): void {
    if (groups === null) {
      this.recorder.partition(at, null, '', '')
      return
    }
    const text = groups.map((g) => g.join(',')).join(' | ')
    this.recorder.partition(at, groups, 'partition', `partition ${text}`)
  }

  healedAll(at: number): void {
    this.recorder.event(at, 'heal', 'all healed', 'every fault healed: partitions end, crashed replicas restart, no more losses')
  }

  transmitted(at: number, _from: string, _to: string, fate: 'delivered' | 'partition' | 'random'): void {
    this.recorder.datagrams(at, fate === 'delivered' ? 1 : 0, fate === 'random' ? 1 : 0, fate === 'partition' ? 1 : 0)
  }

  requested(at: number, operation: Operation, request: { MID: string; dst: string }): void {
    this.opsByMid.set(request.MID, operation)
    this.recorder.request(
      at,
      { id: operation.id, client: operation.client, kind: operation.kind, key: operation.key, value: operation.value },
      request.MID,
      request.dst,
    )
  }

  retried(at: number, previousMid: string, request: { MID: string; dst: string }): void {
    this.recorder.retry(at, previousMid, request.MID, request.dst)
  }

  replied(at: number, message: { MID: string; type: 'ok' | 'redirect' | 'fail'; value?: string }): void {
    this.lastReplyMid = message.MID
    this.recorder.reply(at, message.MID, message.type, message.type === 'ok' ? (message.value ?? '') : undefined)
  }
}

function describe(failure: SimFailure, history: readonly Operation[], lastReplyMid: string | undefined): Failure {
  const reason = failure.detail.split('\n')[0]!
  if (failure.invariant === 'Linearizability') {
    const check = checkLinearizable(history)
    if (!check.ok) {
      const offending = offendingOperation(check.operations)
      return {
        title: failure.invariant, reason: check.reason, at: offending?.completedAt ?? null, key: check.key,
        operations: check.operations.map((op) => toFailureOperation(op)), offending: offending === undefined ? [] : [offending.id],
      }
    }
  }
  if (failure.invariant === 'Get returns the latest acknowledged put' && lastReplyMid !== undefined) {
    // The get whose reply was just refused: it has completed (with the value it read) as the last one of its key.
    const get = [...history].reverse().find((op) => op.kind === 'get' && op.completedAt === failure.at && reason.includes(op.key))
    if (get !== undefined) {
      const operations = history.filter((op) => op.key === get.key)
      return {
        title: failure.invariant, reason, at: failure.at, key: get.key,
        operations: operations.map((op) => toFailureOperation(op)), offending: [get.id],
      }
    }
  }
  return { title: failure.invariant, reason, at: failure.at, key: null, operations: [], offending: [] }
}
