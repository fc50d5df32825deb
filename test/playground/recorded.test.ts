import { describe, expect, it } from 'vitest'
import { ClusterSimulation, simulate, simulateWithHistory, sweepOptions, type SimObserver } from '../../src/check/cluster'
import { parseSeedQuery, seedQuery, sweepBase, type SweepParams } from '../../src/check/sweep-params'
import type { ReplicaState } from '../../src/domain/state'
import { RecordedRun } from '../../src/playground/recorded'

const params: SweepParams = { seconds: 4, replicas: undefined, mutant: undefined, freeze: false }

/** The last state check:sim itself saw of each replica. */
const finalStates = (seed: number, p: SweepParams): Map<string, ReplicaState> => {
  const states = new Map<string, ReplicaState>()
  const observer = { stepped: (_at: number, replica: string, state: ReplicaState) => states.set(replica, state) } as Partial<SimObserver>
  new ClusterSimulation({ ...sweepOptions(seed, sweepBase(p)), observer: new Proxy(observer, { get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (() => undefined) }) as SimObserver }).run()
  return states
}

describe('a check:sim seed opened in the playground', () => {
  it('replays the seed check:sim runs: the same steps, final states and history; every datagram ends', () => {
    for (const seed of [3, 8]) {
      const run = RecordedRun.of(seed, params)
      const { result, history } = simulateWithHistory(sweepOptions(seed, sweepBase(params)))
      expect(run.failure).toBeUndefined()
      run.fastForward(Number.MAX_SAFE_INTEGER)
      expect(run.pendingScript).toBe(0)
      expect(run.steps.length).toBe(result.stats.steps - result.stats.writesLost)
      const states = finalStates(seed, params)
      for (const r of run.replicas) {
        if (r.state !== undefined) expect(JSON.stringify(r.state)).toBe(JSON.stringify(states.get(r.id)))
      }
      expect(JSON.stringify(run.history())).toBe(JSON.stringify(history))
      expect(run.flights).toEqual([])
      // Each datagram a step received is the one a step sent (or a client's request, or a duplicate of one).
      for (const step of run.steps) {
        if (step.event.kind !== 'received') continue
        const m = step.event.message
        if (m.type === 'get' || m.type === 'put') continue
        const ended = run.ended.find((e) => e.receivedBy === step.id)
        if (ended === undefined) continue // older than the page remembers
        expect(ended.flight.message).toBe(m)
        expect(ended.flight.sentAt).toBeLessThanOrEqual(step.at)
      }
    }
  })

  it('stops where told, and a failing mutant seed carries its failure', () => {
    let seed = 1
    let failure
    for (; seed <= 300; seed++) {
      failure = simulate(sweepOptions(seed, sweepBase({ ...params, seconds: 20, mutant: 'get-from-deposed-leader' }))).failure
      if (failure !== undefined) break
    }
    expect(failure).toBeDefined()
    const run = RecordedRun.of(seed, { ...params, seconds: 20, mutant: 'get-from-deposed-leader' })
    expect(run.failure?.invariant).toBe(failure!.invariant)
    run.advanceTo(run.failure!.at - 1)
    expect(run.clientViolations).toEqual([])
    run.advanceTo(run.endsAt)
    expect(run.clientViolations.map((v) => v.invariant)).toEqual([failure!.invariant])
    expect(run.act()).toMatch(/recording/)
  })

  it('its query round-trips, and a bad one is refused with a reason', () => {
    const p: SweepParams = { seconds: 7, replicas: 5, mutant: 'get-from-deposed-leader', freeze: false, workload: 'shared' }
    const query = seedQuery(12, p)
    expect(query).toBe('seed=12&seconds=7&replicas=5&workload=shared&mutant=get-from-deposed-leader')
    expect(parseSeedQuery(query)).toEqual({ seed: 12, params: p })
    expect(parseSeedQuery('seed=1')).toEqual({ seed: 1, params: { seconds: 20, replicas: undefined, mutant: undefined, freeze: false } })
    expect(parseSeedQuery('seconds=3')).toBe('no seed')
    expect(parseSeedQuery('seed=-1')).toMatch(/seed must be a whole number/)
    expect(parseSeedQuery('seed=1&mutant=nope')).toBe('there is no mutant "nope"')
    expect(parseSeedQuery('seed=1&colour=red')).toBe('unknown field "colour"')
    // check:sim --reads readIndex: the real cluster's way of confirming gets.
    const readIndex: SweepParams = { ...params, reads: 'readIndex' }
    expect(seedQuery(3, readIndex)).toBe('seed=3&seconds=4&reads=readIndex')
    expect(parseSeedQuery(seedQuery(3, readIndex))).toEqual({ seed: 3, params: readIndex })
    expect(parseSeedQuery('seed=1&reads=quorum')).toBe('reads must be one of lease, readIndex')
  })
})
