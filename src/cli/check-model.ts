/**
 * `npm run check:model -- [--bound DEPTH] [--terms T] [--log L] [--in-flight M] [--states S] [--timeouts N]
 *   [--replicas R] [--no-drops] [--duplicates] [--mutant NAME] [--freeze] [--figure8] [--from-leader] [--snapshot-every N]`
 *
 * `--from-leader` starts the search once 0000 has won the first election (explore.ts, electLeader).
 * `--figure8` runs the targeted Figure 8 search (mutants.figure8Search) instead of the bounds given.
 * `--snapshot-every N` brings §7 within reach: the log is compacted every N applied entries.
 *
 * Bounded exhaustive exploration of the reducer; prints states explored, depth reached and the
 * throughput, or a counterexample path.
 */
import { colour } from './progress'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'
import { describeCounterexample, explore } from '../check/explore'
import { defaultBounds } from '../check/explore-options'
import { figure8Search, mutants, type Mutant, type MutantName } from '../check/mutants'
import { freezing, realStep } from '../check/stepper'
import { defaultSettings, withSettings } from '../domain/config'

/** The pieces a snapshot travels in under `--snapshot-every`: small, so that even a tiny store takes several. */
const MODEL_SNAPSHOT_PIECE = 16

const options = {
  bound: { kind: 'int', min: 0, default: defaultBounds.maxDepth, help: 'depth bound' },
  terms: { kind: 'int', min: 0, default: defaultBounds.maxTerm, help: 'highest term explored' },
  log: { kind: 'int', min: 0, default: defaultBounds.maxLogLength, help: 'longest log explored' },
  'in-flight': { kind: 'int', min: 0, default: defaultBounds.maxInFlight, help: 'most messages in flight' },
  states: { kind: 'int', min: 1, default: 200_000, help: 'stop after this many states' },
  timeouts: { kind: 'int', min: 0, default: defaultBounds.maxTimerFirings, help: 'most timer firings along a path' },
  replicas: { kind: 'int', min: 1, max: 21, default: defaultBounds.replicas, help: 'replicas' },
  'no-drops': { kind: 'flag', help: 'never drop a message' },
  duplicates: { kind: 'flag', help: 'also deliver copies of messages' },
  mutant: { kind: 'choice', choices: Object.keys(mutants), help: 'explore an injected bug instead of the real reducer' },
  freeze: { kind: 'flag', help: 'deep-freeze every state and effect, as the tests do (a handler that writes into a state throws)' },
  figure8: { kind: 'flag', help: 'the targeted Figure 8 search instead of the bounds given' },
  'from-leader': { kind: 'flag', help: 'start once 0000 has won the first election' },
  'snapshot-every': {
    kind: 'int',
    min: 1,
    help: `compact the log every N applied entries, and send snapshots in pieces of ${MODEL_SNAPSHOT_PIECE} characters (default: the replica's, ${defaultSettings.limits.snapshotEvery}, which no bounded search reaches)`,
  },
} satisfies OptionSpecs

export const command = {
  name: 'check:model',
  invocation: 'npm run check:model --',
  summary: 'Bounded exhaustive exploration of the reducer: every interleaving of deliveries, drops, timeouts and requests\nof a small cluster up to the bounds, every Raft invariant checked in every state.',
  synopsis: '[options]',
  options,
  footer:
    'Exit code: 0 when no counterexample is found (the last line says whether the search was complete or cut off by\n' +
    '--states), 1 when one is (its path is printed), 2 for bad arguments.',
} as const satisfies CommandSpec<OptionSpecs>

export const main = ({ options: args }: ParsedCommand<typeof options>): number => {
  const mutantName = args.mutant as MutantName | undefined
  const mutant: Mutant | undefined = mutantName === undefined ? undefined : mutants[mutantName]
  const unfrozen = mutant?.step ?? realStep
  const step = args.freeze ? freezing(unfrozen) : unfrozen
  const bounds = {
    replicas: args.replicas,
    maxDepth: args.bound,
    maxTerm: args.terms,
    maxLogLength: args.log,
    maxInFlight: args['in-flight'],
    maxStates: args.states,
    maxTimerFirings: args.timeouts,
    drops: !args['no-drops'],
    requests: defaultBounds.requests,
    duplicates: args.duplicates,
  }
  // §7 in reach of a bounded search: compaction after a few entries, a snapshot in several pieces.
  const snapshotEvery = args['snapshot-every']
  const settings =
    snapshotEvery === undefined
      ? mutant?.options.settings
      : withSettings(mutant?.options.settings ?? defaultSettings, { limits: { snapshotEvery, snapshotChunkChars: MODEL_SNAPSHOT_PIECE } })
  const search = args.figure8
    ? figure8Search()
    : {
        bounds,
        start: args['from-leader'] ? ('leader' as const) : ('boot' as const),
        ...(settings ? { settings } : {}),
      }
  console.log(`bounds: ${JSON.stringify(search.bounds)}`)
  const began = performance.now()
  const result = explore({ step, ...search })
  const seconds = (performance.now() - began) / 1000
  if (result.counterexample !== undefined) console.log(describeCounterexample(result.counterexample))
  const explored = `${result.statesExplored} states, ${result.transitions} transitions, depth ${result.depthReached}`
  console.log(
    (result.counterexample !== undefined
      ? `${colour.red('FAILED')}: ${explored} in ${seconds.toFixed(2)} s`
      : result.complete
        ? `${colour.green('ok')}: every state within the bounds explored (complete): ${explored} in ${seconds.toFixed(2)} s`
        : `${colour.yellow('cut off')}: no counterexample in the ${explored} explored, but the search stopped at its state bound ` +
          `(--states ${search.bounds.maxStates}) before covering the bounds: a partial search, not a verification; ` +
          `raise --states, or lower --bound, --terms or --log, for a complete one (${seconds.toFixed(2)} s)`) +
      `\nthroughput: ${(result.statesExplored / seconds).toFixed(0)} states/s, ${(result.transitions / seconds).toFixed(0)} transitions/s`,
  )
  return result.counterexample === undefined ? 0 : 1
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
