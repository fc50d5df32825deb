/**
 * A timeline of one kvsim run. kvsim sees only datagrams, so each replica's role and term are
 * inferred from what it sends (infer-role.ts); everything else is what kvsim itself did.
 * kvsim's times are seconds; the timeline's are milliseconds.
 */
import type { Operation } from '../history/linearizability'
import type { ClientRequest, ReplyOutcome } from '../sim/client-pool'
import type { Message } from '../sim/datagram'
import type { FanOut } from '../sim/network'
import type { RunResult } from '../sim/runner'
import type { FiredEvent, SimulationObserver } from '../sim/simulation'
import { offendingOperation, toFailureOperation } from './blame'
import { inferRole } from './infer-role'
import type { Failure, TimelineData } from './model'
import { TimelineRecorder } from './recorder'

const MS = 1000

export class KvsimTimeline implements SimulationObserver {
  readonly recorder: TimelineRecorder

  constructor(readonly replicas: readonly string[]) {
    this.recorder = new TimelineRecorder(replicas)
  }

  hello(at: number, replica: string): void {
    this.recorder.mark(at * MS, replica, 'hello', `${replica} said hello`)
    if (this.recorder.current(replica)?.role === 'starting') this.recorder.setRole(at * MS, replica, 'follower', null)
  }

  datagram(at: number, message: Message, fanOut: FanOut): void {
    const t = at * MS
    const previous = this.recorder.current(message.src)
    if (previous !== undefined && previous.role !== 'down') {
      const next = inferRole(previous, message)
      this.recorder.setRole(t, message.src, next.role, next.term)
    }
    this.recorder.datagrams(t, fanOut.delivered.length, fanOut.droppedRandomly, fanOut.droppedByPartition)
  }

  request(at: number, operation: Operation, request: ClientRequest): void {
    const m = request.message
    this.recorder.request(
      at * MS,
      { id: operation.id, client: operation.client, kind: operation.kind, key: operation.key, value: operation.value },
      m.MID,
      request.to,
    )
  }

  retry(at: number, previousMid: string, request: ClientRequest): void {
    this.recorder.retry(at * MS, previousMid, request.message.MID, request.to)
  }

  reply(at: number, _client: string, message: Message, outcome: ReplyOutcome): void {
    const { MID, type, value } = message
    if (typeof MID !== 'string' || (type !== 'ok' && type !== 'redirect' && type !== 'fail')) return
    // Any reply says something about its sender's role too (its leader field).
    const previous = this.recorder.current(message.src)
    if (previous !== undefined && previous.role !== 'down') {
      const next = inferRole(previous, message)
      this.recorder.setRole(at * MS, message.src, next.role, next.term)
    }
    const correct = outcome.kind !== 'incorrect'
    this.recorder.reply(at * MS, MID, type, typeof value === 'string' ? value : undefined, correct)
  }

  event(event: FiredEvent, majority: readonly string[] | null): void {
    const t = event.at * MS
    switch (event.type) {
      case 'part_easy':
      case 'part_hard': {
        const minority = this.replicas.filter((id) => !majority?.includes(id))
        this.recorder.partition(t, majority === null ? null : [majority, minority], event.type, `${event.type}: ${event.detail}`)
        break
      }
      case 'part_end':
        this.recorder.partition(t, null, '', '')
        this.recorder.event(t, 'heal', 'part_end', 'part_end: healed')
        break
      case 'restart':
        this.recorder.event(t, 'event', 'restart', `restart: ${event.detail}`)
        break
      default:
        this.recorder.event(t, 'kill', event.type, `${event.type}: ${event.detail}`)
    }
  }

  killed(at: number, replica: string): void {
    this.recorder.down(at * MS, replica, 'killed', `${replica} killed`)
  }

  restarted(at: number, replica: string): void {
    this.recorder.mark(at * MS, replica, 'restarted', `${replica} restarted on its data directory`)
    this.recorder.setRole(at * MS, replica, 'starting', this.recorder.current(replica)?.term ?? null)
  }

  died(at: number, replica: string, reason: string): void {
    this.recorder.down(at * MS, replica, 'died', `${replica} died: ${reason}`)
  }

  /** The page's data, once the run is over. */
  build(result: RunResult): TimelineData {
    const s = result.scenario
    const stats = result.score.stats
    return this.recorder.build(result.elapsedSeconds * MS, {
      title: `kvsim ${s.name} seed ${result.seed}: ${result.score.correct ? 'PASS' : 'FAIL'}`,
      subtitle: `${s.replicas} replicas, ${s.requests} requests over ${s.lifetime} s, mix ${s.mix}, drops ${s.drops}; ran ${result.elapsedSeconds.toFixed(1)} s (${result.stopReason})`,
      source: 'kvsim',
      rolesInferred: true,
      summary: [
        `total_msgs ${stats.totalMsgs} (dropped ${stats.droppedRandomly} at random, ${stats.droppedByPartition} by partitions); failures ${stats.failures}; duplicates ${stats.duplicates}`,
        `generated gets/puts ${stats.generatedGets}/${stats.generatedPuts}; redirects ${stats.redirects}; unanswered gets/puts ${stats.unansweredGets}/${stats.unansweredPuts}; incorrect ${stats.incorrect}; died/killed ${stats.died}/${stats.killed}`,
        `tiers (0 bonus … 3 none): ${Object.entries(result.score.tiers).map(([m, t]) => `${m} ${t}`).join(', ')}`,
      ],
      failure: this.failure(result),
      scoredMedianMs: stats.latencySamples === 0 ? undefined : stats.medianLatency * MS,
    })
  }

  private failure(result: RunResult): Failure | null {
    const score = result.score
    if (score.correct) return null
    const history = result.history
    const wrong = this.recorder.incorrectRequests()
    if (wrong.length > 0) {
      const first = history.find((op) => op.id === wrong[0])
      const reason = result.incorrect.find((i) => first !== undefined && i.reason.includes(first.key))?.reason ?? result.incorrect[0]?.reason ?? ''
      if (first !== undefined) {
        return {
          title: 'Incorrect reply', reason, at: first.completedAt === undefined ? null : first.completedAt * MS, key: first.key,
          operations: history.filter((op) => op.key === first.key).map((op) => toFailureOperation(op, MS)),
          offending: wrong.filter((id) => history.some((op) => op.id === id && op.key === first.key)),
        }
      }
    }
    const lin = score.linearizability
    if (!lin.ok) {
      const offending = offendingOperation(lin.operations)
      return {
        title: 'Not linearizable', reason: lin.reason, key: lin.key,
        at: offending?.completedAt === undefined ? null : offending.completedAt * MS,
        operations: lin.operations.map((op) => toFailureOperation(op, MS)),
        offending: offending === undefined ? [] : [offending.id],
      }
    }
    const failed = score.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)
    const first = result.incorrect[0]
    return {
      title: 'Run not correct', reason: [...failed, ...(first === undefined ? [] : [`first incorrect: ${first.reason}`])].join('; '),
      at: first === undefined ? null : first.at * MS, key: null, operations: [], offending: [],
    }
  }
}
