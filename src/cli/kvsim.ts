/**
 * kvsim: runs one scenario, or all 17 public ones, against replica processes and scores them.
 */
import { randomInt } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import { colour, formatDuration, progressLine } from './progress'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'
import { defaultReplica, publicScenarioFiles, repoRoot } from '../sim/paths'
import { formatRun, formatTable, resultToJson } from '../sim/report'
import { Progress, RunResult, runScenario } from '../sim/runner'
import { loadScenario, runDuration, Scenario, ScenarioError } from '../sim/scenario'
import { replicaIds } from '../domain/ids'
import { COURSE_PACING, PacingCosts } from '../sim/pacing'
import { KvsimTimeline } from '../timeline/kvsim'
import { timelineFileFor, writeTimeline } from '../timeline/page'
import { NS_PER_S, writeHistory } from '../history/jepsen'

export const command = {
  name: 'kvsim',
  summary: [
    "Runs a scenario of the course's protocol (docs/protocol.md) against real replica processes over UDP on",
    'localhost, with the drops, partitions and kills it schedules, and scores the run as the course does.',
    'With no scenario: configs/advanced-1.json; with all: the 17 public scenarios in turn.',
  ].join('\n'),
  synopsis: '[<scenario.json> | all] [options]',
  positionals: { min: 0, max: 1 },
  options: {
    replica: { kind: 'string', short: 'r', value: 'PATH', help: "the replica program to score (default: the repository's ./3700kvstore)" },
    seed: { kind: 'int', help: "seed for the workload and the fault schedule (default: the scenario's, else random)" },
    json: { kind: 'string', value: 'FILE', help: 'write the results as JSON' },
    timeline: { kind: 'string', value: 'FILE.html', help: 'write a timeline page of the run (with all: FILE-<scenario>.html for each)' },
    history: {
      kind: 'string',
      value: 'FILE.jsonl',
      help: "write the clients' history as JSON lines in Jepsen's shape (with all: FILE-<scenario>.jsonl for each), for an outside linearizability checker",
    },
    fast: {
      kind: 'flag',
      help: "route each datagram the moment it arrives, with no cost (the unpaced routing, for checks); by default kvsim routes at the course simulator's pace: one datagram per readable replica socket per round, in ID order, each datagram and copy costing CPU time, requests fired as a round ends",
    },
    durable: {
      kind: 'flag',
      help: 'the replicas keep their state on disk, in a temporary data directory per run (RAFTKV_DATA; removed after): always so for a scenario with a restart event',
    },
    workload: {
      kind: 'choice',
      choices: ['own', 'shared'],
      default: 'own',
      help: 'own: each client gets only keys it wrote, checked per client as the course simulator does; shared: all clients read and write three keys, a new value per write, judged by the linearizability checker alone',
    },
    silent: { kind: 'flag', short: 's', help: "replicas' output to /dev/null (the default)" },
    verbose: { kind: 'flag', short: 'v', help: "print the replicas' output, each line with the time and the replica's ID" },
  },
  footer: 'Exit code: 0 when every run is correct, 1 when one is not, 2 for a bad scenario or bad arguments.',
} as const satisfies CommandSpec<OptionSpecs>

export async function main({ options: given, positionals }: ParsedCommand<typeof command.options>): Promise<number> {
  const options = { ...given, target: positionals[0] ?? '', silent: !given.verbose }
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
  const progress = progressLine()
  const many = scenarios.length > 1
  const durations = scenarios.map(runDuration)
  for (const [k, scenario] of scenarios.entries()) {
    const seed = options.seed ?? scenario.seed ?? randomInt(0, 2 ** 31)
    const timeline = options.timeline === undefined ? undefined : new KvsimTimeline(replicaIds(scenario.replicas))
    const position = many ? `[${k + 1}/${scenarios.length}] ` : ''
    const later = durations.slice(k + 1).reduce((sum, d) => sum + d, 0)
    progress.print(
      `${position}${scenario.name}: ${scenario.replicas} replicas, ${scenario.requests} requests, ${durations[k]} s ` +
        `(start_wait ${scenario.startWait} + lifetime ${scenario.lifetime} + end_wait ${scenario.endWait}), seed ${seed}` +
        (many ? `; about ${formatDuration(durations[k]! + later)} left in all` : ''),
    )
    interrupted = () => [
      `kvsim: interrupted during ${scenario.name}${many ? ` (scenario ${k + 1} of ${scenarios.length})` : ''}; ${results.length} finished.`,
      ...(results.length === 0 ? [] : ['', formatTable(results)]),
    ].join('\n')
    const result = await runScenario(scenario, {
      observer: timeline,
      replica,
      seed,
      silent: options.silent,
      pacing: options.fast ? 'fast' : pacingFromEnv(),
      durable: options.durable,
      workload: options.workload,
      cwd: process.cwd(),
      onProgress: (p: Progress) =>
        progress.update(
          `${position}${scenario.name} ${p.elapsed.toFixed(1)}/${p.duration} s  answered ${p.answered}  leader ${p.leader}  msgs ${p.totalMsgs}` +
            (many ? `  about ${formatDuration(Math.max(0, p.duration - p.elapsed) + later)} left` : ''),
        ),
    })
    progress.done()
    results.push(result)
    const verdict = result.score.correct ? colour.green('pass') : colour.red('FAIL')
    if (!many || !result.score.correct) console.log(formatRun(result))
    if (many) console.log(`${position}${scenario.name}: ${verdict} (seed ${seed})`)
    if (options.history !== undefined) {
      const file = timelineFileFor(options.history, many ? scenario.name : undefined, '.jsonl')
      writeHistory(file, result.history, NS_PER_S)
      console.log(`History: ${path.resolve(file)}`)
    }
    if (timeline !== undefined && options.timeline !== undefined) {
      const file = timelineFileFor(options.timeline, many ? scenario.name : undefined)
      writeTimeline(file, timeline.build(result))
      console.log(`Timeline: ${path.resolve(file)}`)
    }
  }
  interrupted = undefined
  if (many) console.log(`\n${formatTable(results)}`)

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

/** What to print when Ctrl-C stops a run: what finished before it. */
let interrupted: (() => string) | undefined

if (require.main === module) {
  // Ctrl-C and kill: say what finished, then leave through process.exit so that the exit hook
  // kills every replica group.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted !== undefined) process.stderr.write(`\r\x1b[K\n${interrupted()}\n`)
      process.exit(130)
    })
  }
  exitWith(runCommand(command, process.argv.slice(2), main))
}
