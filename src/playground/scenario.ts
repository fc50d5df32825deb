/**
 * A playground scenario as data: the seed, the cluster's size, and every action a person took, each
 * with the moment it was taken (virtual time, and how many events had been handled before it). The
 * cluster is deterministic (cluster.ts), so the same scenario replays to the same states. It
 * travels in the page's URL hash and as an exported JSON file; decoding is the only door in, and a
 * malformed scenario is refused with a reason, never half-applied.
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as t from 'io-ts'
import { describeDecodeErrors } from '../decoding/report'
import { NodeId } from '../domain/wire'

export const MIN_REPLICAS = 3
export const MAX_REPLICAS = 7

const Count = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number of at least 0')
const Time = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0, 'a time in milliseconds of at least 0')
const Seed = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff, 'a seed from 0 to 4294967295')
const Replicas = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= MIN_REPLICAS && n <= MAX_REPLICAS, `a replica count from ${MIN_REPLICAS} to ${MAX_REPLICAS}`)
const ClientIndex = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0 && n < 8, 'a client number from 0 to 7')

/** What a person can do. Leadership transfer and membership changes join here once the reducer has them. */
export const Action = t.union([
  t.intersection([
    t.type({ kind: t.literal('put'), client: ClientIndex, key: t.string, value: t.string }),
    t.partial({ to: NodeId }),
  ]),
  t.intersection([t.type({ kind: t.literal('get'), client: ClientIndex, key: t.string }), t.partial({ to: NodeId })]),
  t.type({ kind: t.literal('kill'), replica: NodeId }),
  t.type({ kind: t.literal('restart'), replica: NodeId }),
  /** Cut or mend the link between two replicas. */
  t.type({ kind: t.literal('link'), a: NodeId, b: NodeId, cut: t.boolean }),
  /** Split the replicas into groups: every link between groups cut, every link inside one mended. */
  t.type({ kind: t.literal('partition'), groups: t.array(t.array(NodeId)) }),
  /** Every link mended. */
  t.type({ kind: t.literal('heal') }),
  /** A message in flight, by its number: lost, held back by `ms`, or sent twice. */
  t.type({ kind: t.literal('drop'), flight: Count }),
  t.type({ kind: t.literal('delay'), flight: Count, ms: Time }),
  t.type({ kind: t.literal('duplicate'), flight: Count }),
])
export type Action = t.TypeOf<typeof Action>

export const TimedAction = t.type({
  /** The virtual time it was taken at. */
  at: Time,
  /** How many events the cluster had handled before it. */
  after: Count,
  action: Action,
})
export type TimedAction = t.TypeOf<typeof TimedAction>

export const Scenario = t.intersection([
  t.type({ version: t.literal(1), seed: Seed, replicas: Replicas, actions: t.array(TimedAction) }),
  /** Where the sharer stood: events handled and virtual time (the replay stops there). */
  t.partial({ events: Count, time: Time }),
])
export type Scenario = t.TypeOf<typeof Scenario>

/** Why a scenario was refused, in words for the page. */
export const decodeScenario = (json: unknown): E.Either<string, Scenario> =>
  pipe(
    Scenario.decode(json),
    E.mapLeft((errors) => describeDecodeErrors(errors, 3).join('; ')),
    E.chain((scenario) => {
      for (let i = 1; i < scenario.actions.length; i++) {
        const [before, action] = [scenario.actions[i - 1]!, scenario.actions[i]!]
        if (action.after < before.after || action.at < before.at) return E.left(`actions.${i}: taken before the action ahead of it`)
      }
      return E.right(scenario)
    }),
  )

/** The scenario as URL-hash text: `#s=` and its JSON, percent-encoded (readable, and any browser's URL holds it). */
export const scenarioHash = (scenario: Scenario): string => `#s=${encodeURIComponent(JSON.stringify(scenario))}`

/** The scenario in a URL hash: none when the hash holds none, a reason when it holds a broken one. */
export const scenarioFromHash = (hash: string): E.Either<string, Scenario> | undefined => {
  const match = /^#?s=(.*)$/s.exec(hash)
  if (match === null) return undefined
  let json: unknown
  try {
    json = JSON.parse(decodeURIComponent(match[1]!))
  } catch {
    return E.left('the link holds no readable scenario (its JSON is broken)')
  }
  return decodeScenario(json)
}
