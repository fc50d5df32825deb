/**
 * Human-readable output of runs: one run in detail, or the table of `all`.
 */
import { describeOperation } from '../history/linearizability'
import { RunResult } from './runner'
import { METRICS, MetricName } from './scenario'
import { metricValue, TIER_NAMES } from './scoring'

export function formatMetric(metric: MetricName, value: number): string {
  return metric === 'median_latency' ? `${(value * 1000).toFixed(3)} ms` : String(value)
}

export function formatRun(result: RunResult): string {
  const { stats, checks, correct, tiers, linearizability } = result.score
  const lines: string[] = []
  const s = result.scenario
  lines.push(`== ${s.name}: ${s.replicas} replicas, ${s.requests} requests, mix ${s.mix}, drops ${s.drops}, seed ${result.seed}`)
  const routing = result.pacing === 'paced' ? `, paced routing (${result.rounds ?? 0} rounds)` : result.pacing === 'fast' ? ', fast routing' : ''
  const storage = result.dataDir === undefined ? '' : `, replicas on disk in ${result.dataDir} (removed)`
  lines.push(`   replica ${result.replica}; ran ${result.elapsedSeconds.toFixed(1)} s (${result.stopReason})${routing}${storage}`)
  if (result.events.length > 0) {
    lines.push('Events:')
    for (const event of result.events) lines.push(`  ${event.at.toFixed(2).padStart(7)} s  ${event.type}: ${event.detail}`)
  }
  lines.push('Statistics:')
  lines.push(`  Total messages between replicas: ${stats.totalMsgs} (dropped ${stats.droppedRandomly} at random, ${stats.droppedByPartition} by partitions, ${stats.lostToClosedSockets} to closed sockets, ${stats.blocked} blocked)`)
  lines.push(`  Replicas died / killed: ${stats.died} / ${stats.killed}`)
  lines.push(`  Generated get()/put() requests: ${stats.generatedGets} / ${stats.generatedPuts} (gets that failed to generate: ${stats.failedToGenerate})`)
  lines.push(`  Redirects: ${stats.redirects}; fail replies get/put: ${stats.failedGets} / ${stats.failedPuts}`)
  lines.push(`  Unanswered get()/put() at the end: ${stats.unansweredGets} / ${stats.unansweredPuts}`)
  lines.push(`  Duplicate replies: ${stats.duplicates}; incorrect: ${stats.incorrect}`)
  lines.push(`  Acknowledged keys: ${stats.acknowledgedKeys}; latency samples: ${stats.latencySamples}, median ${formatMetric('median_latency', stats.medianLatency)}`)
  for (const died of result.died) lines.push(`  ! ${died.replica} died at ${died.at.toFixed(2)} s: ${died.reason}`)
  for (const exit of result.unexpectedExits) lines.push(`  ! replica ${exit} exited without being killed (the course's simulator would not notice)`)
  if (result.harnessDrops !== undefined && result.harnessDrops > 0) {
    lines.push(`  ! kvsim's own sockets dropped ${result.harnessDrops} datagrams (receive buffers full): client traffic the protocol never loses was lost, so this run cannot judge the replica`)
  }
  if (result.socketOverflows !== undefined && result.socketOverflows > 0) {
    lines.push(`  ! ${result.socketOverflows} datagrams dropped at full sockets: replicas sent faster than the rounds drain, and the course's simulator's kernel would drop these too (clients' answers included)`)
  }
  for (const slow of result.slowExits) lines.push(`  ! replica ${slow.replica} took ${slow.seconds.toFixed(1)} s to exit after SIGTERM`)
  if (result.incorrect.length > 0) {
    lines.push(`Incorrect (first ${Math.min(10, result.incorrect.length)} of ${result.incorrect.length}):`)
    for (const entry of result.incorrect.slice(0, 10)) lines.push(`  ${entry.at.toFixed(3).padStart(8)} s  ${entry.reason}`)
  }
  lines.push('Correctness:')
  for (const check of checks) lines.push(`  [${check.ok ? 'pass' : 'FAIL'}] ${check.name}: ${check.detail}`)
  if (!linearizability.ok) {
    lines.push(`  Operations on key ${linearizability.key}:`)
    for (const op of linearizability.operations.slice(0, 40)) lines.push(`    ${describeOperation(op)}`)
  }
  lines.push('Performance:')
  for (const metric of METRICS) {
    const thresholds = s.benchmarks[metric].map((t) => formatMetric(metric, t)).join(' / ')
    const tier = correct ? `${tiers[metric]} ${TIER_NAMES[tiers[metric]]}` : '3 none (run not correct)'
    lines.push(`  ${metric.padEnd(15)} ${formatMetric(metric, metricValue(stats, metric)).padStart(12)}  tier ${tier}  (thresholds ${thresholds})`)
  }
  lines.push(`Result: ${correct ? 'PASS' : 'FAIL'}  tiers ${METRICS.map((m) => tiers[m]).join(' ')}`)
  return lines.join('\n')
}

const COLUMNS = ['scenario', 'result', 'msgs', 'failures', 'dups', 'median lat', 'tiers m f d l'] as const

export function formatTable(results: readonly RunResult[]): string {
  const rows = results.map((r) => {
    const { stats, correct, tiers } = r.score
    return [
      r.scenario.name, correct ? 'pass' : 'FAIL', String(stats.totalMsgs), String(stats.failures), String(stats.duplicates),
      formatMetric('median_latency', stats.medianLatency), METRICS.map((m) => tiers[m]).join(' '),
    ]
  })
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), summaryLine(results)].join('\n')
}

export function tierCounts(results: readonly RunResult[]): [number, number, number, number] {
  const counts: [number, number, number, number] = [0, 0, 0, 0]
  for (const r of results) for (const m of METRICS) counts[r.score.tiers[m]]++
  return counts
}

export function summaryLine(results: readonly RunResult[]): string {
  const passed = results.filter((r) => r.score.correct).length
  const counts = tierCounts(results)
  return `${passed}/${results.length} correct; tiers: ${counts.map((c, i) => `${TIER_NAMES[i]} ${c}`).join(', ')}`
}

/** A JSON-friendly summary of a run (the history included). */
export function resultToJson(result: RunResult): object {
  const { score, scenario, ...rest } = result
  return {
    scenario: scenario.name,
    ...rest,
    correct: score.correct,
    stats: score.stats,
    checks: score.checks,
    tiers: score.tiers,
    linearizability: score.linearizability.ok ? { ok: true } : score.linearizability,
  }
}
