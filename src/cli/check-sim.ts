/**
 * `npm run check:sim -- [--seeds N] [--start S] [--replicas R] [--seconds T] [--workload own|shared] [--reads lease|readIndex] [--mutant NAME] [--workers W] [--freeze] [--verbose]`
 *
 * Runs N seeds of the deterministic cluster simulation (each seed with its own network and fault
 * mix), stops at the first failure in seed order and prints its seed and trace; prints the
 * throughput. `--workers W` spreads the seeds over W worker threads (sweep.ts) with the same report.
 */
import { availableParallelism } from 'node:os'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { seedQuery } from '../check/sweep-params'
import { checkSimTimeline } from '../timeline/check-sim'
import { repoRoot, writeTimeline } from '../timeline/page'
import { simulateWithHistory, sweepOptions } from '../check/cluster'
import { NS_PER_MS, writeHistory } from '../history/jepsen'
import { describeFailure } from '../check/cluster'
import { mutants, type MutantName } from '../check/mutants'
import { colour, formatDuration, progressLine } from './progress'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'
import { workloads, type Workload } from '../check/workload'
import type { ReadStyle } from '../domain/config'
import { localRunner, runSeedsInOrder, sweepBase, workerRunner, type SeedRunner, type SweepParams } from '../check/sweep'

/**
 * Below this many seeds the default is one thread: each worker compiles the reducer and the checks
 * afresh, and on this 2-core machine the first twenty or so seeds of a thread run at about half
 * speed while it does, so 100 seeds took as long on two workers as on one (BENCHMARKS.md).
 */
const WORKERS_FROM_SEEDS = 200

/** Why a passing sweep may count duplicate oks and unanswered requests (check/virtual-clients.ts). */
export const DUPLICATES_AND_UNANSWERED =
  'A duplicate ok is fine: a client that heard nothing resends the same request (same MID), and both copies may be ' +
  'answered ok; the store applies a put once per MID. Unanswered requests were in flight at a crash, in a partition ' +
  'or at the end: what is checked is that every answer is right (linearizable), not that every request is answered.'

const options = {
  seeds: { kind: 'int', min: 1, default: 100, help: 'how many seeds' },
  start: { kind: 'int', default: 1, help: 'the first seed' },
  replicas: { kind: 'int', min: 1, max: 21, help: 'replicas in every seed (default: 3 or 5, by seed)' },
  seconds: { kind: 'int', min: 1, default: 20, help: 'simulated seconds of requests and faults before the heal' },
  workload: {
    kind: 'choice',
    choices: workloads,
    help: 'own: each client its own keys, reads checked per client (default); shared: all clients read and write a few keys, the linearizability checker judges',
  },
  reads: {
    kind: 'choice',
    choices: ['lease', 'readIndex'],
    help: "how leaders confirm gets: lease (the course's, default) or readIndex (thesis §6.4, the real cluster's)",
  },
  mutant: { kind: 'choice', choices: Object.keys(mutants), help: 'run an injected bug instead of the real reducer' },
  workers: {
    kind: 'int',
    min: 1,
    max: 256,
    help: `worker threads sharing the seeds; 1 runs them in this thread (default: 1 below ${WORKERS_FROM_SEEDS} seeds, else the available cores, ${availableParallelism()} here)`,
  },
  freeze: { kind: 'flag', help: 'deep-freeze every state and effect, as the tests do (a handler that writes into a state throws)' },
  verbose: { kind: 'flag', help: "print every seed's figures" },
  timeline: {
    kind: 'string',
    value: 'FILE',
    help: `write a timeline page (HTML) of the first failing seed, or of the first seed if all pass; without it, a failing seed's page goes to ${path.join(os.tmpdir(), 'check-sim-seed-N.html')}`,
  },
  history: {
    kind: 'string',
    value: 'FILE',
    help: "write the client history of the first failing seed, or of the first seed if all pass, as JSON lines in Jepsen's shape (README)",
  },
} satisfies OptionSpecs

export const command = {
  name: 'check:sim',
  invocation: 'npm run check:sim --',
  summary:
    "Seeded simulations of whole clusters through the reducer in virtual time (drops, partitions, crashes, restarts),\nevery Raft invariant and linearizability checked at every step; stops at the first failing seed.",
  synopsis: '[options]',
  options,
  footer: 'Exit code: 0 when every seed passes, 1 at the first failing seed (its trace is printed), 2 for bad arguments.',
} as const satisfies CommandSpec<OptionSpecs>

/** Where the playground replays a seed step by step (`npm run playground` writes the page). */
const playgroundLink = (seed: number, params: SweepParams): string =>
  `Step through seed ${seed} in the playground: npm run playground, then open ${pathToFileURL(path.join(repoRoot(), 'dist', 'playground.html')).href}#checksim&${seedQuery(seed, params)}`

export const main = async ({ options: args }: ParsedCommand<typeof options>): Promise<number> => {
  const { seeds, start, verbose } = args
  const params: SweepParams = {
    seconds: args.seconds,
    replicas: args.replicas,
    mutant: args.mutant as MutantName | undefined,
    freeze: args.freeze,
    workload: args.workload as Workload | undefined,
    reads: args.reads as ReadStyle | undefined,
  }
  const workers = Math.min(args.workers ?? (seeds < WORKERS_FROM_SEEDS ? 1 : availableParallelism()), seeds)

  const began = performance.now()
  const runners: SeedRunner[] = workers === 1 ? [localRunner(params)] : Array.from({ length: workers }, () => workerRunner(params))
  let steps = 0
  let simulatedMs = 0
  let operations = 0
  let completed = 0
  let duplicates = 0
  let done = 0
  let failures = 0
  let failingSeed: number | undefined
  /** The failing seed's runner itself failed: its run is not repeated for a timeline or a history. */
  let runnerFailed = false
  const progress = progressLine()
  const status = (): string => {
    const elapsed = (performance.now() - began) / 1000
    const left = done === 0 ? '' : `, about ${formatDuration((elapsed / done) * (seeds - done))} left`
    return `check:sim: ${done} of ${seeds} seeds done (${start}..${start + done - 1}), ${failures === 0 ? 'all passed' : `${failures} FAILED`}${left}`
  }
  // Ctrl-C: say how far the sweep got, then stop (worker threads end with the process).
  const onInterrupt = (): void => {
    progress.done()
    process.stderr.write(`\ninterrupted: ${status()}\n`)
    process.exit(130)
  }
  process.once('SIGINT', onInterrupt)
  try {
    await runSeedsInOrder(start, seeds, runners, (result) => {
      done++
      steps += result.stats.steps
      simulatedMs += result.stats.simulatedMs
      operations += result.stats.operations
      completed += result.stats.completed
      duplicates += result.stats.duplicates
      if (verbose) console.log(`seed ${result.seed}: ${JSON.stringify(result.stats)}`)
      if (result.failure !== undefined) {
        failures++
        failingSeed ??= result.seed
        runnerFailed = result.runnerFailed === true
        progress.done()
        console.log(describeFailure(result.failure))
      }
      progress.update(status())
    })
  } finally {
    process.removeListener('SIGINT', onInterrupt)
    progress.done()
    await Promise.all(runners.map((r) => r.close()))
  }
  const realSeconds = (performance.now() - began) / 1000
  console.log(
    `${failures === 0 ? colour.green('ok') : colour.red('FAILED')}: seeds ${start}..${start + seeds - 1}` +
      `, ${(simulatedMs / 1000).toFixed(0)} simulated s, ${steps} steps, ${operations} client requests in ${realSeconds.toFixed(2)} s` +
      `\nclient requests: ${operations}, of which ${completed} answered ok; ${duplicates} duplicate oks.` +
      (duplicates > 0 || completed < operations ? ` ${DUPLICATES_AND_UNANSWERED}` : '') +
      `\nthroughput: ${(simulatedMs / 1000 / realSeconds).toFixed(0)} simulated s per real s, ${(steps / realSeconds).toFixed(0)} steps/s` +
      ` (${workers === 1 ? 'this thread' : `${workers} worker threads`})`,
  )
  const timeline = args.timeline
  if (runnerFailed) return 1
  if (timeline !== undefined || failingSeed !== undefined) {
    // The run again, watched: each seed's run depends on its seed alone, so it is the same run.
    const seed = failingSeed ?? start
    const file = timeline ?? path.join(os.tmpdir(), `check-sim-seed-${seed}.html`)
    const playground = playgroundLink(seed, params)
    const { data } = checkSimTimeline(sweepOptions(seed, sweepBase(params)), params.mutant === undefined ? '' : `mutant ${params.mutant}`, playground)
    writeTimeline(file, data)
    console.log(`Timeline of seed ${seed}: ${path.resolve(file)}`)
    console.log(playground)
  }
  const history = args.history
  if (history !== undefined) {
    const seed = failingSeed ?? start
    writeHistory(history, simulateWithHistory(sweepOptions(seed, sweepBase(params))).history, NS_PER_MS)
    console.log(`History of seed ${seed}: ${path.resolve(history)}`)
  }
  return failures === 0 ? 0 : 1
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
