/**
 * Scenario files (configs/*.json), decoded with io-ts, with the protocol's defaults filled in.
 * One event type is kvsim's own, not the course's: `restart` starts the replica killed longest ago
 * (and not restarted since) again on its data directory (see runner.ts and the README). One field
 * is kvsim's own too: `graceful_stop` (default false) makes kill events stop a replica with SIGTERM
 * and a grace period, as the course's simulator does, instead of a crash (SIGKILL).
 */
import * as fs from 'fs'
import * as path from 'path'
import * as t from 'io-ts'
import { isLeft } from 'fp-ts/Either'
import { decodeOrExplain } from '../decoding/report'

const EVENT_TYPES = ['kill_leader', 'kill_non_leader', 'part_easy', 'part_hard', 'part_end', 'restart'] as const
export type EventType = (typeof EVENT_TYPES)[number]

const between = (min: number, max: number, what = 'a number') =>
  t.refinement(t.number, (n) => n >= min && n <= max, `${what} from ${min} to ${max}`)
const Probability = between(0, 1, 'a fraction')
const NonNegative = t.refinement(t.number, (n) => n >= 0, 'a number of at least 0 (seconds)')
// The course's simulator refuses a lifetime under 5 s ("Simulation lifetime must be at least 5 seconds").
const Lifetime = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 5, 'a whole number of seconds, at least 5')
const ReplicaCount = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 3 && n <= 21, 'a whole number from 3 to 21')
const PositiveInt = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1')
const Thresholds = t.tuple([t.number, t.number, t.number], 'three numbers, the bonus, full and partial thresholds: [b, f, p]')
const EventTypeCodec = t.keyof(
  Object.fromEntries(EVENT_TYPES.map((e) => [e, null])) as Record<EventType, null>,
  `one of ${EVENT_TYPES.join(', ')}`,
)

const ScenarioEvent = t.type(
  { type: EventTypeCodec, time: NonNegative },
  'an event: {"type": ..., "time": seconds after start_wait}',
)

const Benchmarks = t.type(
  { total_msgs: Thresholds, failures: Thresholds, duplicates: Thresholds, median_latency: Thresholds },
  'thresholds for each of total_msgs, failures, duplicates and median_latency',
)

const Tests = t.intersection([
  t.type({ benchmarks: Benchmarks }),
  t.partial({
    maximum_get_fail_fraction: Probability,
    maximum_put_fail_fraction: Probability,
    maximum_get_generation_fail_fraction: Probability,
    maximum_appends_batched_fraction: Probability,
  }),
], 'an object with "benchmarks" (and optional maximum_*_fraction fields)')

export const ScenarioFile = t.intersection([
  t.type({ lifetime: Lifetime, replicas: ReplicaCount, requests: PositiveInt, tests: Tests }),
  t.partial({
    mix: Probability,
    drops: Probability,
    start_wait: NonNegative,
    end_wait: NonNegative,
    seed: t.number,
    max_packets: PositiveInt,
    events: t.array(ScenarioEvent, 'a list of events'),
    graceful_stop: t.boolean,
  }),
], 'a scenario: an object with lifetime, replicas, requests and tests')
export type ScenarioFile = t.TypeOf<typeof ScenarioFile>

export type Thresholds = readonly [number, number, number]
export type MetricName = 'total_msgs' | 'failures' | 'duplicates' | 'median_latency'
export const METRICS: readonly MetricName[] = ['total_msgs', 'failures', 'duplicates', 'median_latency']

/** A scenario with every default applied. */
export interface Scenario {
  name: string
  lifetime: number
  replicas: number
  requests: number
  mix: number
  drops: number
  startWait: number
  endWait: number
  seed: number | undefined
  maxPackets: number
  events: { type: EventType; time: number }[]
  /** Kill events stop a replica with SIGTERM and a grace period (true), or crash it with SIGKILL. */
  gracefulStop: boolean
  benchmarks: Record<MetricName, Thresholds>
  maxGetFailFraction: number
  maxPutFailFraction: number
  maxGetGenerationFailFraction: number
  maxAppendsBatchedFraction: number
}

export class ScenarioError extends Error {}

export function withDefaults(name: string, file: ScenarioFile): Scenario {
  return {
    name,
    lifetime: file.lifetime,
    replicas: file.replicas,
    requests: file.requests,
    mix: file.mix ?? 0.8,
    drops: file.drops ?? 0,
    startWait: file.start_wait ?? 5,
    endWait: file.end_wait ?? 2,
    seed: file.seed,
    maxPackets: file.max_packets ?? 20000,
    events: [...(file.events ?? [])].sort((a, b) => a.time - b.time),
    gracefulStop: file.graceful_stop ?? false,
    benchmarks: file.tests.benchmarks,
    maxGetFailFraction: file.tests.maximum_get_fail_fraction ?? 0.5,
    maxPutFailFraction: file.tests.maximum_put_fail_fraction ?? 0.5,
    maxGetGenerationFailFraction: file.tests.maximum_get_generation_fail_fraction ?? 0.1,
    maxAppendsBatchedFraction: file.tests.maximum_appends_batched_fraction ?? 0.5,
  }
}

/**
 * What the course's simulator refuses beyond each field's own type: the waits and the events'
 * times within the lifetime, and max_packets from the number of requests to 900,000.
 */
const acrossFields = (file: ScenarioFile): string[] => {
  const problems: string[] = []
  for (const field of ['start_wait', 'end_wait'] as const) {
    const value = file[field]
    if (value !== undefined && value > file.lifetime) problems.push(`field "${field}": expected at most the lifetime (${file.lifetime} s), got ${value}`)
  }
  file.events?.forEach((event, i) => {
    if (event.time > file.lifetime) problems.push(`field "events.${i}.time": expected at most the lifetime (${file.lifetime} s), got ${event.time}`)
  })
  if (file.max_packets !== undefined && (file.max_packets < file.requests || file.max_packets > 900_000)) {
    problems.push(`field "max_packets": expected from the number of requests (${file.requests}) to 900000, got ${file.max_packets}`)
  }
  return problems
}

/** Decodes a parsed JSON value; throws a ScenarioError naming each bad field, its value and what is expected. */
export function decodeScenario(name: string, json: unknown): Scenario {
  const decoded = decodeOrExplain(ScenarioFile, json)
  const problems = isLeft(decoded) ? decoded.left : acrossFields(decoded.right)
  if (problems.length > 0 || isLeft(decoded)) {
    throw new ScenarioError(`${name}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}\n(docs/protocol.md, "Scenario files", says what each field means)`)
  }
  return withDefaults(name, decoded.right)
}

export function loadScenario(file: string): Scenario {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    throw new ScenarioError(`${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new ScenarioError(`${file}: not valid JSON (${(error as Error).message})`)
  }
  return decodeScenario(path.basename(file, '.json'), json)
}

/** Total run time in seconds, from the moment all replicas are spawned. */
export function runDuration(s: Scenario): number {
  return s.startWait + s.lifetime + s.endWait
}
