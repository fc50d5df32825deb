/**
 * Statistics of a finished run, the correctness checks and the performance tiers. Pure.
 */
import { checkLinearizable, LinearizabilityResult } from '../history/linearizability'
import { METRICS, MetricName, Scenario, Thresholds } from './scenario'
import { Simulation } from './simulation'
import { median } from '../stats/quantile'

export interface RunStats {
  totalMsgs: number
  droppedRandomly: number
  droppedByPartition: number
  lostToClosedSockets: number
  blocked: number
  generatedGets: number
  generatedPuts: number
  failedToGenerate: number
  unansweredGets: number
  unansweredPuts: number
  failedGets: number
  failedPuts: number
  redirects: number
  duplicates: number
  incorrect: number
  died: number
  killed: number
  acknowledgedKeys: number
  latencySamples: number
  medianLatency: number
  /** fail replies plus requests unanswered at the end. */
  failures: number
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

/** 0 bonus, 1 full, 2 partial, 3 none. */
export type Tier = 0 | 1 | 2 | 3
export const TIER_NAMES = ['bonus', 'full', 'partial', 'none'] as const

export interface Score {
  stats: RunStats
  checks: Check[]
  correct: boolean
  /** Tiers per metric; all 3 (none) for an incorrect run. */
  tiers: Record<MetricName, Tier>
  linearizability: LinearizabilityResult
}

/** The upper median (src/stats/quantile.ts, as the course's simulator scores it); 0 when empty. */
export const upperMedian = (samples: readonly number[]): number => median(samples) ?? 0

/** Strictly below the first threshold is bonus, below the second full, below the third partial. */
export function tierOf(value: number, thresholds: Thresholds): Tier {
  if (value < thresholds[0]) return 0
  if (value < thresholds[1]) return 1
  if (value < thresholds[2]) return 2
  return 3
}

export function collectStats(sim: Simulation): RunStats {
  const counters = sim.clients.counters
  const unanswered = sim.clients.unanswered()
  return {
    totalMsgs: sim.network.totalMsgs,
    droppedRandomly: sim.network.droppedRandomly,
    droppedByPartition: sim.network.droppedByPartition,
    lostToClosedSockets: sim.lostToClosedSockets,
    blocked: sim.blocked,
    generatedGets: counters.generatedGets,
    generatedPuts: counters.generatedPuts,
    failedToGenerate: counters.failedToGenerate,
    unansweredGets: unanswered.gets,
    unansweredPuts: unanswered.puts,
    failedGets: counters.failedGets,
    failedPuts: counters.failedPuts,
    redirects: counters.redirects,
    duplicates: counters.duplicates,
    incorrect: sim.incorrect.length,
    died: sim.died.length,
    killed: sim.killed.length,
    acknowledgedKeys: sim.clients.acknowledgedKeys(),
    latencySamples: sim.clients.latencies.length,
    medianLatency: upperMedian(sim.clients.latencies),
    failures: counters.failedGets + counters.failedPuts + unanswered.gets + unanswered.puts,
  }
}

export function metricValue(stats: RunStats, metric: MetricName): number {
  switch (metric) {
    case 'total_msgs': return stats.totalMsgs
    case 'failures': return stats.failures
    case 'duplicates': return stats.duplicates
    case 'median_latency': return stats.medianLatency
  }
}

export function correctnessChecks(stats: RunStats, scenario: Scenario, linearizability: LinearizabilityResult): Check[] {
  const s = scenario
  const minMsgs = s.requests * s.replicas * (1 - s.mix) * (1 - s.maxAppendsBatchedFraction)
  const getLimit = stats.generatedGets * s.maxGetFailFraction
  const putLimit = stats.generatedPuts * s.maxPutFailFraction
  const generationLimit = stats.generatedGets * s.maxGetGenerationFailFraction
  return [
    { name: 'no incorrect replies or messages', ok: stats.incorrect === 0, detail: `${stats.incorrect} incorrect` },
    { name: 'no replica died', ok: stats.died === 0, detail: `${stats.died} died` },
    { name: 'some key acknowledged', ok: stats.acknowledgedKeys > 0, detail: `${stats.acknowledgedKeys} keys acknowledged` },
    { name: 'unanswered gets within limit', ok: stats.unansweredGets <= getLimit, detail: `${stats.unansweredGets} ≤ ${fmt(getLimit)}` },
    { name: 'unanswered puts within limit', ok: stats.unansweredPuts <= putLimit, detail: `${stats.unansweredPuts} ≤ ${fmt(putLimit)}` },
    { name: 'failed-to-generate gets within limit', ok: stats.failedToGenerate <= generationLimit, detail: `${stats.failedToGenerate} ≤ ${fmt(generationLimit)}` },
    { name: 'enough replication traffic', ok: stats.totalMsgs >= minMsgs, detail: `${stats.totalMsgs} ≥ ${fmt(minMsgs)}` },
    {
      name: 'linearizable (per key)',
      ok: linearizability.ok,
      detail: linearizability.ok
        ? 'history is linearizable'
        : `${linearizability.verdict === 'not linearizable' ? '' : `${linearizability.verdict}: `}key ${linearizability.key}: ${linearizability.reason}`,
    },
  ]
}

export function score(sim: Simulation): Score {
  const stats = collectStats(sim)
  const linearizability = checkLinearizable(sim.clients.history)
  const checks = correctnessChecks(stats, sim.scenario, linearizability)
  const correct = checks.every((check) => check.ok)
  const tiers = {} as Record<MetricName, Tier>
  for (const metric of METRICS) {
    tiers[metric] = correct ? tierOf(metricValue(stats, metric), sim.scenario.benchmarks[metric]) : 3
  }
  return { stats, checks, correct, tiers, linearizability }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1)
}
