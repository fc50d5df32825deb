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

const EVENT_TYPES = ['kill_leader', 'kill_non_leader', 'part_easy', 'part_hard', 'part_end', 'restart'] as const
export type EventType = (typeof EVENT_TYPES)[number]

const between = (name: string, min: number, max: number) =>
  t.refinement(t.number, (n) => n >= min && n <= max, `${name} (a number from ${min} to ${max})`)
const Probability = between('Probability', 0, 1)
const NonNegative = t.refinement(t.number, (n) => n >= 0, 'NonNegative (a number ≥ 0)')
const Lifetime = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 5, 'Lifetime (an integer ≥ 5)')
const ReplicaCount = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 3 && n <= 21, 'Replicas (an integer from 3 to 21)')
const PositiveInt = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 1, 'PositiveInteger (an integer ≥ 1)')
const Thresholds = t.tuple([t.number, t.number, t.number], 'Thresholds ([first, second, third])')
const EventTypeCodec = t.keyof(Object.fromEntries(EVENT_TYPES.map((e) => [e, null])) as Record<EventType, null>, 'EventType')

const ScenarioEvent = t.type({ type: EventTypeCodec, time: NonNegative }, 'Event')

const Benchmarks = t.type(
  { total_msgs: Thresholds, failures: Thresholds, duplicates: Thresholds, median_latency: Thresholds },
  'Benchmarks',
)

const Tests = t.intersection([
  t.type({ benchmarks: Benchmarks }),
  t.partial({
    maximum_get_fail_fraction: Probability,
    maximum_put_fail_fraction: Probability,
    maximum_get_generation_fail_fraction: Probability,
    maximum_appends_batched_fraction: Probability,
  }),
], 'Tests')

export const ScenarioFile = t.intersection([
  t.type({ lifetime: Lifetime, replicas: ReplicaCount, requests: PositiveInt, tests: Tests }),
  t.partial({
    mix: Probability,
    drops: Probability,
    start_wait: NonNegative,
    end_wait: NonNegative,
    seed: t.number,
    max_packets: PositiveInt,
    events: t.array(ScenarioEvent),
    graceful_stop: t.boolean,
  }),
], 'Scenario')
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

/** Decodes a parsed JSON value; throws ScenarioError naming the first bad field. */
export function decodeScenario(name: string, json: unknown): Scenario {
  const result = ScenarioFile.decode(json)
  if (isLeft(result)) {
    const messages = result.left.map(describeError)
    throw new ScenarioError(`${name}: ${[...new Set(messages)].slice(0, 3).join('; ')}`)
  }
  return withDefaults(name, result.right)
}

function describeError(error: t.ValidationError): string {
  const context = error.context
  const keys: string[] = []
  for (let i = 1; i < context.length; i++) {
    // io-ts puts the branch number of an intersection in the path; that is not a field.
    if (context[i - 1]!.type instanceof t.IntersectionType) continue
    keys.push(context[i]!.key)
  }
  const fieldPath = keys.join('.')
  const expected = context[context.length - 1]?.type.name ?? 'a value'
  const field = fieldPath === '' ? 'the file' : `field "${fieldPath}"`
  const got = error.value === undefined ? 'missing' : `got ${JSON.stringify(error.value)}`
  return `${field}: expected ${expected}, ${got}`
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
