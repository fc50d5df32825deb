/**
 * `npm run bench:linearizability`: how long the linearizability checker takes to decide one key's
 * long history with many puts in flight at once, both verdicts.
 *
 * The histories come from a sequential register (history/generate.ts), linearizable by
 * construction; the other verdict is the same history with one stale read added (a get, invoked
 * after a put completed, of a value overwritten before that put began). Each is decided `--rounds`
 * times after one warm-up round; the figures are the median and the slowest.
 *
 * With `--search`, the same histories once each by the bounded search alone (register-search.ts,
 * what decided every history before the read-mapping algorithm), for comparison.
 *
 *   npm run bench:linearizability -- [--operations N] [--spread S] [--rounds R] [--seed X] [--search]
 */
import { performance } from 'node:perf_hooks'
import { Rng } from '../check/rng'
import { maxPutsInFlight, sequentialHistory, staleReadAfterNewerWrite } from '../history/generate'
import { checkLinearizable, describeResult, type Operation } from '../history/linearizability'
import { searchRegister, withoutUnobservedPendingWrites } from '../history/register-search'
import { quantileOfSorted } from '../stats/quantile'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'

export const command = {
  name: 'bench:linearizability',
  invocation: 'npm run bench:linearizability --',
  summary:
    "How long the linearizability checker takes to decide one key's long history with many puts in flight, both\nverdicts (as generated: linearizable; with one stale read added: not).",
  synopsis: '[options]',
  options: {
    operations: { kind: 'int', min: 2, default: 10_000, help: 'operations in the history' },
    spread: { kind: 'number', min: 0, default: 300, help: 'how far an operation may stretch (about spread/20 puts at once)' },
    rounds: { kind: 'int', min: 1, default: 7, help: 'timed rounds after one warm-up' },
    seed: { kind: 'int', default: 23, help: 'the seed of the generated history' },
    search: { kind: 'flag', help: 'also time the bounded search alone on the same histories, for comparison' },
  },
} as const satisfies CommandSpec<OptionSpecs>

export const main = ({ options }: ParsedCommand<typeof command.options>): number => {
  const { operations, spread, rounds, seed } = options
  const random = new Rng(seed)
  const history = sequentialHistory(random, {
    operations,
    putFraction: 0.5,
    spread,
    pendingPutFraction: 0.0005,
    pendingGetFraction: 0.02,
    phantomPutFraction: 0.0005,
  })
  const stale = staleReadAfterNewerWrite(random, history)
  if (stale === undefined) throw new Error('no two puts one after the other to make a stale read of')

  const time = (judged: readonly Operation[]): { readonly verdict: string; readonly ms: number[] } => {
    checkLinearizable(judged) // warm-up
    const ms: number[] = []
    let verdict = ''
    for (let r = 0; r < rounds; r++) {
      const began = performance.now()
      const result = checkLinearizable(judged)
      ms.push(performance.now() - began)
      verdict = result.ok ? 'linearizable' : result.verdict
      if (r === 0 && !result.ok) console.log(`  (${describeResult(result).split('\n')[0]})`)
    }
    return { verdict, ms: ms.sort((a, b) => a - b) }
  }

  console.log(
    `one key: ${history.length} operations (${history.filter((op) => op.kind === 'put').length} puts), ` +
      `at most ${maxPutsInFlight(history)} puts in flight at once; ${rounds} rounds after a warm-up; node ${process.version}`,
  )
  for (const [name, judged] of [['as generated', history], ['with a stale read', stale]] as const) {
    const { verdict, ms } = time(judged)
    console.log(`${name.padEnd(18)} ${verdict.padEnd(17)} median ${quantileOfSorted(ms, 0.5)!.toFixed(1)} ms, slowest ${ms[ms.length - 1]!.toFixed(1)} ms`)
  }

  if (options.search) {
    for (const [name, judged] of [['as generated', history], ['with a stale read', stale]] as const) {
      const prepared = withoutUnobservedPendingWrites(
        judged.filter((op) => !(op.kind === 'get' && op.completedAt === undefined)).sort((a, b) => a.invokedAt - b.invokedAt),
      )
      const began = performance.now()
      const result = searchRegister(prepared)
      const ms = performance.now() - began
      console.log(`search alone, ${name}: ${result.kind} in ${ms.toFixed(0)} ms${result.kind === 'linearizable' ? '' : ` (${result.reason.split('\n')[0]})`}`)
    }
  }
  return 0
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
