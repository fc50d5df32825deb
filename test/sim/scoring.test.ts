import { describe, expect, it } from 'vitest'
import { correctnessChecks, RunStats, tierOf, upperMedian } from '../../src/sim/scoring'
import { shortScenario } from './helpers'

const stats = (overrides: Partial<RunStats> = {}): RunStats => ({
  totalMsgs: 500, droppedRandomly: 0, droppedByPartition: 0, lostToClosedSockets: 0, blocked: 0,
  generatedGets: 20, generatedPuts: 30, failedToGenerate: 1, unansweredGets: 0, unansweredPuts: 0,
  failedGets: 0, failedPuts: 0, redirects: 3, duplicates: 0, incorrect: 0, died: 0, killed: 0,
  acknowledgedKeys: 10, latencySamples: 53, medianLatency: 0.001, failures: 0, ...overrides,
})

describe('tiers', () => {
  it('are strictly below each threshold', () => {
    expect(tierOf(0, [1, 10, 100])).toBe(0)
    expect(tierOf(1, [1, 10, 100])).toBe(1)
    expect(tierOf(9, [1, 10, 100])).toBe(1)
    expect(tierOf(10, [1, 10, 100])).toBe(2)
    expect(tierOf(100, [1, 10, 100])).toBe(3)
    // A first threshold of 0 has no bonus tier.
    expect(tierOf(0, [0, 2, 5])).toBe(1)
  })
})

describe('upperMedian', () => {
  it('takes the element at floor(n / 2), 0 when empty', () => {
    expect(upperMedian([])).toBe(0)
    expect(upperMedian([3])).toBe(3)
    expect(upperMedian([4, 1])).toBe(4)
    expect(upperMedian([5, 1, 3])).toBe(3)
    expect(upperMedian([1, 2, 3, 4])).toBe(3)
  })
})

describe('correctness checks', () => {
  const scenario = shortScenario({ requests: 100, mix: 0.2 }) // min msgs 100 * 5 * 0.8 * 0.5 = 200
  const failing = (s: RunStats) => correctnessChecks(s, scenario, { ok: true }).filter((c) => !c.ok).map((c) => c.name)

  it('passes a clean run', () => {
    expect(failing(stats())).toEqual([])
  })

  it('catches each failure', () => {
    expect(failing(stats({ incorrect: 1 }))).toEqual(['no incorrect replies or messages'])
    expect(failing(stats({ died: 1 }))).toEqual(['no replica died'])
    expect(failing(stats({ acknowledgedKeys: 0 }))).toEqual(['some key acknowledged'])
    expect(failing(stats({ unansweredGets: 11 }))).toEqual(['unanswered gets within limit'])
    expect(failing(stats({ unansweredGets: 10 }))).toEqual([])
    expect(failing(stats({ unansweredPuts: 16 }))).toEqual(['unanswered puts within limit'])
    expect(failing(stats({ failedToGenerate: 3 }))).toEqual(['failed-to-generate gets within limit'])
    expect(failing(stats({ totalMsgs: 199 }))).toEqual(['enough replication traffic'])
    expect(failing(stats({ totalMsgs: 200 }))).toEqual([])
  })

  it('fails a non-linearizable history', () => {
    const checks = correctnessChecks(stats(), scenario, { ok: false, key: 'k', operations: [], reason: 'x' })
    expect(checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['linearizable (per key)'])
  })
})
