/**
 * `npm run bench`: runs the public scenarios, the cluster-size ones and the restart ones N times each
 * against a replica under kvsim, and regenerates the section of BENCHMARKS.md between the bench
 * markers with the medians and the tier counts (src/sim/bench.ts).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { renderSection, replaceSection, summarize, type ScenarioSummary } from '../sim/bench'
import { benchRouter } from '../sim/bench-router'
import { BENCH_SCENARIOS, defaultReplica, repoRoot } from '../sim/paths'
import { formatMetric } from '../sim/report'
import { runScenario, type RunResult } from '../sim/runner'
import { loadScenario } from '../sim/scenario'
import { exitWith, runCommand, UsageError, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'

export const command = {
  name: 'bench',
  invocation: 'npm run bench --',
  summary: `Runs every scenario N times under kvsim against a replica and rewrites the kvsim table of BENCHMARKS.md
(between its bench markers) with the medians and the tiers. About 15 minutes a run on two cores.`,
  synopsis: '[options]',
  options: {
    runs: { kind: 'int', min: 1, default: 3, help: 'runs of each scenario, at seeds S, S+1, ...' },
    replica: { kind: 'string', value: 'PATH', help: "the replica program (default: the repository's ./3700kvstore)" },
    scenarios: { kind: 'string', value: 'A,B,...', help: `which scenarios of configs/ (default: all ${BENCH_SCENARIOS.length})` },
    seed: { kind: 'int', default: 1, help: 'the first seed' },
    out: { kind: 'string', value: 'FILE', help: "the file whose bench section is rewritten (default: the repository's BENCHMARKS.md)" },
    fast: { kind: 'flag', help: "kvsim's unpaced routing instead of the course simulator's pace" },
  },
  footer: 'Exit code: 0 when the table was written (failing runs are in it), 2 for bad arguments.',
} as const satisfies CommandSpec<OptionSpecs>

export const main = async ({ options: given }: ParsedCommand<typeof command.options>): Promise<number> => {
  const scenarios = given.scenarios === undefined ? [...BENCH_SCENARIOS] : given.scenarios.split(',').filter((name) => name !== '')
  for (const name of scenarios) {
    if (!fs.existsSync(path.join(repoRoot(), 'configs', `${name}.json`))) throw new UsageError(`no scenario configs/${name}.json`)
  }
  const options = {
    ...given,
    scenarios,
    replica: path.resolve(given.replica ?? defaultReplica()),
    out: path.resolve(given.out ?? path.join(repoRoot(), 'BENCHMARKS.md')),
  }
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsim-bench-'))
  const summaries: ScenarioSummary[] = []
  const allRuns: RunResult[] = []
  const started = Date.now()
  const total = options.scenarios.length * options.runs
  try {
    for (const name of options.scenarios) {
      const scenario = loadScenario(path.join(repoRoot(), 'configs', `${name}.json`))
      const results: RunResult[] = []
      for (let run = 0; run < options.runs; run++) {
        const seed = options.seed + run
        const result = await runScenario(scenario, { replica: options.replica, seed, silent: true, cwd, pacing: options.fast ? 'fast' : undefined })
        results.push(result)
        const { stats, correct } = result.score
        const done = allRuns.length + results.length
        console.log(`[${done}/${total}] ${name} run ${run + 1}/${options.runs} (seed ${seed}): ${correct ? 'pass' : 'FAIL'}, msgs ${stats.totalMsgs}, ` +
          `failures ${stats.failures}, duplicates ${stats.duplicates}, median ${formatMetric('median_latency', stats.medianLatency)}` +
          (result.harnessDrops ? `; kvsim's own sockets dropped ${result.harnessDrops} datagrams` : '') +
          (result.socketOverflows ? `; ${result.socketOverflows} datagrams dropped at full sockets` : ''))
      }
      summaries.push(summarize(name, results))
      allRuns.push(...results)
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true })
  }
  const router = await benchRouter(50_000, 3_000)
  const cpus = os.cpus()
  const context = [
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`npm run bench -- --runs ${options.runs}${options.scenarios.length < BENCH_SCENARIOS.length ? ` --scenarios ${options.scenarios.join(',')}` : ''}\` (seeds ${options.seed}..${options.seed + options.runs - 1})${options.fast ? ' --fast' : ''}, ${((Date.now() - started) / 60000).toFixed(1)} min`,
    `- Routing: ${options.fast ? 'fast (unpaced)' : "paced like the course's simulator (kvsim's default)"}`,
    `- Replica: \`${path.relative(repoRoot(), options.replica) || options.replica}\``,
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, node ${process.version}; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(', ')}`,
    `- Medians over the runs of each scenario; tiers 0 bonus, 1 full, 2 partial, 3 none (3 when any run was incorrect).`,
    `- Datagrams dropped in kvsim's own receive buffers (lost client traffic; should be 0): ${allRuns.some((r) => r.harnessDrops === undefined) ? 'not measurable here' : allRuns.reduce((sum, r) => sum + (r.harnessDrops ?? 0), 0)}.`,
    `- Datagrams dropped at full sockets, as the course's simulator's kernel would (paced routing only; should be 0): ${allRuns.reduce((sum, r) => sum + (r.socketOverflows ?? 0), 0)}.`,
    `- Router overhead (bench-router): ${(router.unicastNs / 1000).toFixed(1)} µs per routing decision; about ${router.perHopUs.toFixed(1)} µs added per routed UDP datagram.`,
  ]
  const section = renderSection(summaries, allRuns, context)
  const existing = fs.existsSync(options.out) ? fs.readFileSync(options.out, 'utf8') : ''
  fs.writeFileSync(options.out, replaceSection(existing, section))
  console.log(`\n${section}\n\nwritten to ${options.out}`)
  return 0
}

if (require.main === module) {
  // Ctrl-C and kill: leave through process.exit so that the exit hook kills every replica group.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))
  exitWith(runCommand(command, process.argv.slice(2), main))
}
