/**
 * `npm run check:history -- FILE [--memo-mib N] [--steps N]`
 *
 * Judges a history file in Jepsen's line format (docs/history.md): one JSON object a line,
 * {"process", "type", "f", "key", "value", "time"}, as check:sim --history and kvsim --history
 * write it, or as any other tool does. Prints the verdict and, for a history that is not
 * linearizable, why.
 */
import { isLeft } from 'fp-ts/Either'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'
import { readHistory } from '../history/jepsen'
import { checkLinearizable, defaultSearchLimits, describeResult } from '../history/linearizability'

const MIB = 2 ** 20

const options = {
  'memo-mib': {
    kind: 'int',
    default: defaultSearchLimits.memoBytes / MIB,
    min: 1,
    value: 'N',
    help: `the bounded search's memo in MiB, for keys the read-mapping algorithm cannot decide (a cas, a value written twice)`,
  },
  steps: { kind: 'int', default: defaultSearchLimits.steps, min: 1, value: 'N', help: 'the most states the bounded search enters' },
} satisfies OptionSpecs

export const command: CommandSpec<typeof options> = {
  name: 'check:history',
  invocation: 'npm run check:history',
  summary: "Judges a client history in Jepsen's line format (docs/history.md): linearizable or not, and why.",
  synopsis: '-- FILE [options]',
  options,
  positionals: { min: 1, max: 1 },
  footer:
    'Exit code: 0 linearizable, 1 not linearizable, 2 bad arguments or a file that cannot be read as a history,\n' +
    '3 undecided (a bound was reached) or the checker failed.',
}

export const main = ({ options, positionals }: ParsedCommand<typeof command.options>): number => {
  const file = positionals[0]!
  const history = readHistory(file)
  if (isLeft(history)) {
    console.error(`check:history: ${history.left}`)
    return 2
  }
  const operations = history.right
  const began = performance.now()
  const result = checkLinearizable(operations, { memoBytes: options['memo-mib'] * MIB, steps: options.steps })
  const ms = performance.now() - began
  const keys = new Set(operations.map((op) => op.key)).size
  console.log(`${describeResult(result)}\n${operations.length} operations on ${keys} key(s), checked in ${ms.toFixed(1)} ms`)
  return result.ok ? 0 : result.verdict === 'not linearizable' ? 1 : 3
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
