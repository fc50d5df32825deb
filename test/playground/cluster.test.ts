import { describe, expect, it } from 'vitest'
import * as E from 'fp-ts/Either'
import { PlaygroundCluster } from '../../src/playground/cluster'
import { decodeScenario, scenarioFromHash, scenarioHash } from '../../src/playground/scenario'
import { checkLinearizable } from '../../src/check/linearizability'
import type { NodeId } from '../../src/domain/wire'

const leaderOf = (c: PlaygroundCluster): NodeId | undefined => {
  let best: { id: NodeId; term: number } | undefined
  for (const r of c.replicas) {
    if (r.state?.role === 'leader' && (best === undefined || r.state.persistent.currentTerm > best.term)) best = { id: r.id, term: r.state.persistent.currentTerm }
  }
  return best?.id
}

/** Advances in 10 ms slices until `done` holds or `limitMs` of virtual time pass. */
const runUntil = (c: PlaygroundCluster, done: () => boolean, limitMs = 20_000): void => {
  const end = c.now + limitMs
  while (!done() && c.now < end) c.advanceTo(c.now + 10)
  expect(done()).toBe(true)
}

/** A scenario: a leader elected, killed, a new one; a put; a partition; a message dropped. */
const playScenario = (c: PlaygroundCluster): void => {
  runUntil(c, () => leaderOf(c) !== undefined)
  const first = leaderOf(c)!
  expect(c.act({ kind: 'kill', replica: first })).toBeUndefined()
  runUntil(c, () => leaderOf(c) !== undefined && leaderOf(c) !== first)
  c.act({ kind: 'put', client: 0, key: 'x', value: '1' })
  runUntil(c, () => c.requests[0]!.operation.completedAt !== undefined)
  c.act({ kind: 'restart', replica: first })
  c.act({ kind: 'partition', groups: [[c.ids[0]!], c.ids.slice(1)] })
  c.advanceTo(c.now + 700)
  const flight = c.flights[0]
  if (flight !== undefined) c.act({ kind: 'drop', flight: flight.id })
  c.act({ kind: 'get', client: 1, key: 'x' })
  c.advanceTo(c.now + 3000)
}

describe('the playground cluster', () => {
  it('elects a leader with the real reducer, replaces a killed one, and commits a put on a majority', () => {
    const c = new PlaygroundCluster(7, 5)
    runUntil(c, () => leaderOf(c) !== undefined)
    const first = leaderOf(c)!
    c.act({ kind: 'kill', replica: first })
    runUntil(c, () => leaderOf(c) !== undefined && leaderOf(c) !== first)
    c.act({ kind: 'put', client: 0, key: 'k', value: 'v1' })
    runUntil(c, () => c.requests[0]!.operation.completedAt !== undefined)
    const holding = c.replicas.filter((r) => r.state !== undefined && r.state.persistent.log.entries.some((e) => e.command.op === 'put' && e.command.value === 'v1'))
    expect(holding.length).toBeGreaterThanOrEqual(3)
    expect(c.requests[0]!.attempts.at(-1)!.answer?.type).toBe('ok')
    expect(checkLinearizable(c.history()).ok).toBe(true)
  })

  it('a killed replica restarts from what it persisted', () => {
    const c = new PlaygroundCluster(3, 3)
    runUntil(c, () => leaderOf(c) !== undefined)
    c.act({ kind: 'put', client: 0, key: 'k', value: 'v' })
    runUntil(c, () => c.requests[0]!.operation.completedAt !== undefined)
    const follower = c.replicas.find((r) => r.state?.role === 'follower')!
    c.advanceTo(c.now + 600)
    const term = follower.state!.persistent.currentTerm
    const entries = follower.state!.persistent.log.entries.length
    c.act({ kind: 'kill', replica: follower.id })
    expect(follower.state).toBeUndefined()
    c.act({ kind: 'restart', replica: follower.id })
    expect(follower.state!.persistent.currentTerm).toBe(term)
    expect(follower.state!.persistent.log.entries.length).toBe(entries)
    expect(c.act({ kind: 'restart', replica: follower.id })).toBe(`${follower.id} is running`)
  })

  it("a put sent to a leader cut off in a minority waits, and commits once the partition heals", () => {
    const c = new PlaygroundCluster(11, 5)
    runUntil(c, () => leaderOf(c) !== undefined)
    const leader = leaderOf(c)!
    const buddy = c.ids.find((id) => id !== leader)!
    c.act({ kind: 'partition', groups: [[leader, buddy], c.ids.filter((id) => id !== leader && id !== buddy)] })
    c.act({ kind: 'put', client: 0, key: 'k', value: 'held', to: leader })
    c.advanceTo(c.now + 1000)
    expect(c.requests[0]!.operation.completedAt).toBeUndefined()
    runUntil(c, () => leaderOf(c) !== undefined && leaderOf(c) !== leader)
    c.act({ kind: 'heal' })
    runUntil(c, () => c.requests[0]!.operation.completedAt !== undefined)
  })

  it('drops, delays and duplicates a chosen message in flight', () => {
    const c = new PlaygroundCluster(5, 3)
    runUntil(c, () => c.flights.length >= 3)
    const [a, b, d] = c.flights
    expect(c.act({ kind: 'drop', flight: a!.id })).toBeUndefined()
    expect(c.flights.includes(a!)).toBe(false)
    expect(c.ended.at(-1)).toMatchObject({ fate: 'dropped' })
    const due = b!.deliverAt
    c.act({ kind: 'delay', flight: b!.id, ms: 500 })
    expect(b!.deliverAt).toBe(due + 500)
    const before = c.flights.length
    c.act({ kind: 'duplicate', flight: d!.id })
    expect(c.flights.length).toBe(before + 1)
    expect(c.flights.at(-1)!.copyOf).toBe(d!.id)
    expect(c.act({ kind: 'drop', flight: a!.id })).toBe(`message #${a!.id} is no longer in flight`)
  })

  it('a scenario replays to the same states, through the URL hash', () => {
    const c = new PlaygroundCluster(42, 5)
    playScenario(c)
    const hash = scenarioHash(c.scenario())
    const decoded = scenarioFromHash(hash)!
    expect(E.isRight(decoded)).toBe(true)
    const scenario = (decoded as E.Right<ReturnType<typeof c.scenario>>).right
    const replay = PlaygroundCluster.replaying(scenario)
    replay.fastForward(scenario.events!, scenario.time!)
    expect(replay.events).toBe(c.events)
    expect(replay.now).toBe(c.now)
    expect(replay.actions).toEqual(c.actions)
    expect(JSON.stringify(replay.replicas.map((r) => r.state))).toBe(JSON.stringify(c.replicas.map((r) => r.state)))
    expect(JSON.stringify(replay.history())).toBe(JSON.stringify(c.history()))
    expect(replay.flights.map((f) => f.id)).toEqual(c.flights.map((f) => f.id))
  })

  it('refuses a broken scenario with a reason', () => {
    expect(scenarioFromHash('#nothing')).toBeUndefined()
    expect(scenarioFromHash('#s=%7Bnot json')).toEqual(E.left('the link holds no readable scenario (its JSON is broken)'))
    const bad = decodeScenario({ version: 1, seed: 1, replicas: 9, actions: [] })
    expect(bad).toEqual(E.left('field "replicas": expected a replica count from 3 to 7, got 9'))
    const badAction = decodeScenario({ version: 1, seed: 1, replicas: 3, actions: [{ at: 0, after: 0, action: { kind: 'kill', replica: 'zz' } }] })
    expect(E.isLeft(badAction) && badAction.left).toMatch(/^field "actions\.0\.action": expected /)
  })
})
