/**
 * `npm run bench:step`: the cost of one replica event, measured by replaying recorded event streams
 * (`RAFTKV_RECORD=DIR`, see runtime/event-recorder.ts) from the same initial state.
 *
 * Two figures per event kind, after warm-up rounds that are not counted:
 * - `step` alone: the reducer on an already decoded event;
 * - the runtime's datagram path: `ReplicaRuntime.onDatagram` on the raw bytes (decode, step, perform
 *   the effects: set timers, encode, hand the bytes to a socket stub).
 *
 * With `--gap MS`, the idle mode: the datagram path as a live replica pays it, after only the
 * replica's own start-up warm-up and with the process idle for MS before each datagram.
 *
 * The command is src/cli/bench-step.ts.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import { received, started, timerFired, type Event } from '../domain/events'
import { initialState, type ReplicaState } from '../domain/state'
import { step } from '../domain/step'
import { decodeMessage, type Message } from '../domain/wire'
import { readRecording, type Recording } from '../runtime/event-recorder'
import { ReplicaRuntime, type ReplicaTimers } from '../runtime/replica'
import { NamedTimers } from '../runtime/timers'
import { REPLICA_WARMUP, warmUp } from '../runtime/warmup'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

export const DEFAULT_RECORDINGS = path.join('bench', 'recordings', 'simple-2')

/**
 * The kind of an event as the bench reports it: the replica's role when the event arrives, and what
 * the event is. An AppendEntries without entries is a heartbeat.
 */
export const eventKind = (state: ReplicaState, event: Event): string => {
  const role = state.role === 'preCandidate' ? 'candidate' : state.role
  if (event.kind === 'started') return 'started'
  if (event.kind === 'timerFired') return `${role}: ${event.timer === 'heartbeat' ? 'tick' : `${event.timer} timer`}`
  const m = event.message
  if (m.type === 'append') return `${role}: ${m.entries.length === 0 ? 'heartbeat' : 'append'}`
  return `${role}: ${m.type}`
}

/** The event kinds that lie on a request's path, in the order the bench prints them. */
export const HOT_KINDS = [
  'leader: put',
  'leader: get',
  'leader: appendReply',
  'leader: tick',
  'follower: append',
  'follower: heartbeat',
  'candidate: voteReply',
] as const

interface Replayable {
  readonly recording: Recording
  /** The recording's events, decoded once; datagrams that do not decode are kept as text only. */
  readonly events: readonly { readonly event: Event | undefined; readonly bytes: Buffer | undefined }[]
}

export const prepareRecording = (recording: Recording): Replayable => ({
  recording,
  events: recording.events.map((recorded) => {
    if ('started' in recorded) return { event: started(recorded.at), bytes: undefined }
    if ('timer' in recorded) return { event: timerFired(recorded.at, recorded.timer), bytes: undefined }
    const decoded = decodeMessage(recorded.datagram)
    return {
      event: E.isRight(decoded) ? received(recorded.at, decoded.right as Message) : undefined,
      bytes: Buffer.from(recorded.datagram, 'utf8'),
    }
  }),
})

const startState = (recording: Recording): ReplicaState =>
  initialState({ id: recording.header.id, peers: recording.header.peers, seed: recording.header.seed })

export type Samples = Map<string, number[]>

const add = (samples: Samples, kind: string, micros: number): void => {
  const list = samples.get(kind)
  if (list === undefined) samples.set(kind, [micros])
  else list.push(micros)
}

/** One replay of a recording through `step` alone; records each event's cost when `samples` is given. */
export const replaySteps = (replayable: Replayable, samples: Samples | undefined): ReplicaState => {
  let state = startState(replayable.recording)
  for (const { event } of replayable.events) {
    if (event === undefined) continue
    const kind = samples === undefined ? '' : eventKind(state, event)
    const before = performance.now()
    state = step(state, event)[0]
    const micros = (performance.now() - before) * 1000
    if (samples !== undefined) add(samples, kind, micros)
  }
  return state
}

/**
 * A runtime for a replay: the recorded clock, sends to a stub, and by default Node's timers set and
 * moved as a live replica's are but never heard (the recording holds the timer events that fired).
 */
const replayingRuntime = (replayable: Replayable, clock: { now: number }, onSend: () => void, timers = nodeTimers(clock)): ReplicaRuntime =>
  new ReplicaRuntime(startState(replayable.recording), { now: () => clock.now, send: onSend, trace: undefined, timers: () => timers })

const nodeTimers = (clock: { now: number }): ReplicaTimers => new NamedTimers(() => clock.now, () => undefined)

/** Timers that do nothing: an idle replay sleeps, and Node timers firing meanwhile would wake it. */
const inertTimers: ReplicaTimers = { set: () => undefined, cancel: () => undefined, stop: () => undefined }

/**
 * Hands the runtime the recording's event `i` at its recorded time; a datagram's cost goes to
 * `samples` under its kind, when `samples` is given.
 */
const feed = (runtime: ReplicaRuntime, replayable: Replayable, i: number, clock: { now: number }, samples: Samples | undefined): void => {
  const recorded = replayable.recording.events[i]!
  clock.now = recorded.at
  if ('started' in recorded) return runtime.start()
  if ('timer' in recorded) return runtime.onTimer(recorded.timer)
  const { event, bytes } = replayable.events[i]!
  const kind = samples === undefined || event === undefined ? '' : eventKind(runtime.current, event)
  const before = performance.now()
  runtime.onDatagram(bytes!)
  const micros = (performance.now() - before) * 1000
  if (samples !== undefined && event !== undefined) add(samples, kind, micros)
}

/** One replay through the runtime: datagrams go in as bytes, timers through `onTimer`, sends to a stub. */
export const replayRuntime = (replayable: Replayable, samples: Samples | undefined): number => {
  const clock = { now: 0 }
  let sent = 0
  const runtime = replayingRuntime(replayable, clock, () => {
    sent++
  })
  for (let i = 0; i < replayable.recording.events.length; i++) feed(runtime, replayable, i, clock, samples)
  runtime.stop()
  return sent
}

/**
 * The same replay with the process idle for `gapMs` before each datagram, as a live replica is
 * between a run's requests, for at most `datagrams` datagrams. Idle, a process loses its caches
 * (the other processes on its core run meanwhile), and the next event costs several times what it
 * costs back to back.
 */
export const replayRuntimeIdle = async (replayable: Replayable, gapMs: number, datagrams: number, samples: Samples): Promise<void> => {
  const clock = { now: 0 }
  const runtime = replayingRuntime(replayable, clock, () => undefined, inertTimers)
  let fed = 0
  for (let i = 0; i < replayable.recording.events.length && fed < datagrams; i++) {
    if ('datagram' in replayable.recording.events[i]!) {
      await new Promise((resolve) => setTimeout(resolve, gapMs))
      fed++
    }
    feed(runtime, replayable, i, clock, samples)
  }
  runtime.stop()
}

export interface KindFigures {
  readonly kind: string
  readonly count: number
  readonly medianUs: number
  readonly p99Us: number
}


export const summarize = (samples: Samples): KindFigures[] => {
  const order = (kind: string): number => {
    const at = (HOT_KINDS as readonly string[]).indexOf(kind)
    return at < 0 ? HOT_KINDS.length : at
  }
  return [...samples.entries()]
    .map(([kind, list]) => {
      const sorted = sortedAscending(list)
      return { kind, count: sorted.length, medianUs: quantileOfSorted(sorted, 0.5)!, p99Us: quantileOfSorted(sorted, 0.99)! }
    })
    .sort((a, b) => order(a.kind) - order(b.kind) || a.kind.localeCompare(b.kind))
}

export interface StepBenchResult {
  readonly replicas: number
  readonly events: number
  readonly rounds: number
  readonly step: readonly KindFigures[]
  readonly datagramPath: readonly KindFigures[]
  /** Every datagram handled by the runtime, whatever its kind. */
  readonly datagramPathAll: KindFigures
}

export const runStepBench = (recordings: readonly Recording[], rounds: number, warmup: number): StepBenchResult => {
  const replayables = recordings.map(prepareRecording)
  const stepSamples: Samples = new Map()
  const pathSamples: Samples = new Map()
  for (let round = 0; round < warmup + rounds; round++) {
    const counted = round >= warmup
    for (const replayable of replayables) replaySteps(replayable, counted ? stepSamples : undefined)
    for (const replayable of replayables) replayRuntime(replayable, counted ? pathSamples : undefined)
  }
  const all: number[] = [...pathSamples.values()].flat()
  const [datagramPathAll] = summarize(new Map([['every datagram', all]]))
  return {
    replicas: recordings.length,
    events: recordings.reduce((total, r) => total + r.events.length, 0),
    rounds,
    step: summarize(stepSamples),
    datagramPath: summarize(pathSamples),
    datagramPathAll: datagramPathAll!,
  }
}

export const loadRecordings = (directory: string): Recording[] => {
  const files = fs
    .readdirSync(directory)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
  if (files.length === 0) throw new Error(`no recordings (*.jsonl) in ${directory}`)
  return files.map((name) => readRecording(path.join(directory, name)))
}

export interface IdleBenchResult {
  readonly replicas: number
  readonly gapMs: number
  /** How many events the replica's warm-up ran before the replay. */
  readonly warmUpEvents: number
  readonly datagramPath: readonly KindFigures[]
  readonly datagramPathAll: KindFigures
}

/** The idle mode: the replica's start-up warm-up, then each recording's datagrams one per gap. */
export const runIdleBench = async (recordings: readonly Recording[], gapMs: number, datagrams: number): Promise<IdleBenchResult> => {
  const { events } = warmUp(REPLICA_WARMUP.events, REPLICA_WARMUP.budgetMs, () => performance.now())
  const samples: Samples = new Map()
  for (const recording of recordings) await replayRuntimeIdle(prepareRecording(recording), gapMs, datagrams, samples)
  const [datagramPathAll] = summarize(new Map([['every datagram', [...samples.values()].flat()]]))
  return { replicas: recordings.length, gapMs, warmUpEvents: events, datagramPath: summarize(samples), datagramPathAll: datagramPathAll! }
}

const fmt = (us: number): string => us.toFixed(1).padStart(8)

const table = (title: string, rows: readonly KindFigures[]): string[] => [
  title,
  `  ${'event'.padEnd(26)}${'count'.padStart(8)}${'p50 µs'.padStart(9)}${'p99 µs'.padStart(9)}`,
  ...rows.map((row) => `  ${row.kind.padEnd(26)}${String(row.count).padStart(8)}${fmt(row.medianUs)} ${fmt(row.p99Us)}`),
]

export const formatStepBench = (result: StepBenchResult): string => {
  return [
    `${result.replicas} recorded replicas, ${result.events} events each round, ${result.rounds} rounds counted`,
    ...table('step alone (decoded event in, state and effects out):', result.step),
    ...table('runtime datagram path (bytes in: decode, step, timers, encode, send):', [
      ...result.datagramPath,
      result.datagramPathAll,
    ]),
  ].join('\n')
}

export const formatIdleBench = (result: IdleBenchResult): string =>
  [
    `${result.replicas} recorded replicas; the replica's warm-up (${result.warmUpEvents} events), then each datagram after ${result.gapMs} ms idle`,
    ...table('runtime datagram path (bytes in: decode, step, timers, encode, send):', [...result.datagramPath, result.datagramPathAll]),
  ].join('\n')
