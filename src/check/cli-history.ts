/**
 * `npm run check:history -- FILE [--memo-mib N] [--steps N]`
 *
 * Judges a history file in Jepsen's line format (docs/history.md): one JSON object a line,
 * {"process", "type", "f", "key", "value", "time"}, as check:sim --history and kvsim --history
 * write it, or as any other tool does. Prints the verdict and, for a history that is not
 * linearizable, why.
 */
import { isLeft } from 'fp-ts/Either'
import { readHistory } from '../history/jepsen'
import { checkLinearizable, defaultSearchLimits, describeResult } from '../history/linearizability'
import { parseCommandLine, usage, type OptionSpecs } from './args'

const MIB = 2 ** 20

const options = {
  'memo-mib': {
    kind: 'int',
    min: 1,
    help: `the bounded search's memo, in MiB, for keys the read-mapping algorithm cannot decide (default ${defaultSearchLimits.memoBytes / MIB})`,
  },
  steps: { kind: 'int', min: 1, help: `the most states the bounded search enters (default ${defaultSearchLimits.steps})` },
} satisfies OptionSpecs

const USAGE = usage(
  'npm run check:history -- FILE [options]',
  options,
  'Exit code: 0 linearizable, 1 not linearizable, 2 bad arguments or a file that cannot be read as a history,\n' +
    '3 undecided (a bound was reached) or the checker failed.',
)

const main = (argv: readonly string[]): number => {
  const [file, ...rest] = argv
  if (file === '-h' || file === '--help') {
    console.log(USAGE)
    return 0
  }
  if (file === undefined || file.startsWith('-')) {
    console.error(`check:history: which history? (a file of JSON lines)\n${USAGE}`)
    return 2
  }
  const args = parseCommandLine('check:history', rest, options, USAGE)
  if ('exitCode' in args) return args.exitCode
  const history = readHistory(file)
  if (isLeft(history)) {
    console.error(`check:history: ${history.left}`)
    return 2
  }
  const operations = history.right
  const began = performance.now()
  const result = checkLinearizable(operations, {
    memoBytes: args.int('memo-mib', defaultSearchLimits.memoBytes / MIB) * MIB,
    steps: args.int('steps', defaultSearchLimits.steps),
  })
  const ms = performance.now() - began
  const keys = new Set(operations.map((op) => op.key)).size
  console.log(`${describeResult(result)}\n${operations.length} operations on ${keys} key(s), checked in ${ms.toFixed(1)} ms`)
  return result.ok ? 0 : result.verdict === 'not linearizable' ? 1 : 3
}

process.exitCode = main(process.argv.slice(2))
