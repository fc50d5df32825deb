/**
 * kvsim: runs one scenario, or all 17 public ones, against replica processes and scores them.
 */
import { randomInt } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import { CliOptions, parseArgs, USAGE, UsageError } from '../sim/args'
import { defaultReplica, publicScenarioFiles, repoRoot } from '../sim/paths'
import { formatRun, formatTable, resultToJson } from '../sim/report'
import { Progress, RunResult, runScenario } from '../sim/runner'
import { loadScenario, Scenario, ScenarioError } from '../sim/scenario'
import { replicaIds } from '../sim/ids'
import { COURSE_PACING, PacingCosts } from '../sim/pacing'
import { KvsimTimeline } from '../timeline/kvsim'
import { timelineFileFor, writeTimeline } from '../timeline/page'
import { NS_PER_S, writeHistory } from '../history/jepsen'

async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions
  try {
    options = parseArgs(argv)
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`kvsim: ${error.message}\n${USAGE}`)
      return 2
    }
    throw error
  }
  if (options.help) {
    console.log(USAGE)
    return 0
  }

  const replica = path.resolve(options.replica ?? defaultReplica())
  try {
    fs.accessSync(replica, fs.constants.X_OK)
  } catch {
    console.error(`kvsim: the replica ${replica} does not exist or is not executable`)
    return 2
  }

  const files = options.target === 'all'
    ? publicScenarioFiles()
    : [options.target === '' ? path.join(repoRoot(), 'configs', 'advanced-1.json') : options.target]
  let scenarios: Scenario[]
  try {
    scenarios = files.map(loadScenario)
  } catch (error) {
    if (error instanceof ScenarioError) {
      console.error(`kvsim: bad scenario: ${error.message}`)
      return 2
    }
    throw error
  }

  const results: RunResult[] = []
  for (const scenario of scenarios) {
    const seed = options.seed ?? scenario.seed ?? randomInt(0, 2 ** 31)
    const timeline = options.timeline === undefined ? undefined : new KvsimTimeline(replicaIds(scenario.replicas))
    const result = await runScenario(scenario, {
      observer: timeline,
      replica,
      seed,
      silent: options.silent,
      pacing: options.fast ? 'fast' : pacingFromEnv(),
      durable: options.durable,
      workload: options.workload,
      cwd: process.cwd(),
      onProgress: process.stderr.isTTY ? showProgress(scenario.name) : undefined,
    })
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
    results.push(result)
    if (scenarios.length === 1) console.log(formatRun(result))
    else if (!result.score.correct) console.log(formatRun(result))
    else console.log(`${scenario.name}: pass (seed ${seed})`)
    if (options.history !== undefined) {
      const file = timelineFileFor(options.history, scenarios.length === 1 ? undefined : scenario.name, '.jsonl')
      writeHistory(file, result.history, NS_PER_S)
      console.log(`History: ${path.resolve(file)}`)
    }
    if (timeline !== undefined && options.timeline !== undefined) {
      const file = timelineFileFor(options.timeline, scenarios.length === 1 ? undefined : scenario.name)
      writeTimeline(file, timeline.build(result))
      console.log(`Timeline: ${path.resolve(file)}`)
    }
  }
  if (scenarios.length > 1) console.log(`\n${formatTable(results)}`)

  if (options.json) {
    const json = results.map(resultToJson)
    fs.writeFileSync(options.json, `${JSON.stringify(scenarios.length === 1 ? json[0] : json, null, 2)}\n`)
  }
  return results.every((r) => r.score.correct) ? 0 : 1
}

/**
 * KVSIM_PACING='{"datagramMicros": 40, ...}' overrides some of the pacing model's costs (for
 * calibrating them; see BENCHMARKS.md); unset, kvsim uses COURSE_PACING.
 */
function pacingFromEnv(): PacingCosts | undefined {
  const text = process.env['KVSIM_PACING']
  if (text === undefined || text === '') return undefined
  const overrides = JSON.parse(text) as Partial<PacingCosts>
  return { ...COURSE_PACING, ...overrides }
}

function showProgress(name: string): (progress: Progress) => void {
  return (p) => {
    process.stderr.write(
      `\r\x1b[K${name} ${p.elapsed.toFixed(1)}/${p.duration} s  answered ${p.answered}  leader ${p.leader}  msgs ${p.totalMsgs}`,
    )
  }
}

// Ctrl-C and kill: leave through process.exit so that the exit hook kills every replica group.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(`kvsim: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 2
  },
)
