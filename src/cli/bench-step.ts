/** `npm run bench:step`: the cost of one replica event, by replaying recorded event streams (src/bench/step-bench.ts). */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { DEFAULT_RECORDINGS, formatIdleBench, formatStepBench, loadRecordings, runIdleBench, runStepBench } from '../bench/step-bench'
import { repoRoot } from '../sim/paths'
import { exitWith, runCommand, UsageError, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'

export const command = {
  name: 'bench:step',
  invocation: 'npm run bench:step --',
  summary: [
    'The cost of one replica event: recorded event streams replayed from the same initial state, the median and p99',
    'per event kind of `step` alone and of the runtime\'s whole datagram path (decode, step, timers, encode, send).',
    'With --gap MS, the idle mode: the datagram path as a live replica pays it, MS of sleep before each datagram.',
  ].join('\n'),
  synopsis: '[options]',
  options: {
    recordings: { kind: 'string', value: 'DIR', help: `the recorded event streams (default: ${DEFAULT_RECORDINGS})` },
    rounds: { kind: 'int', min: 1, default: 20, help: 'rounds counted' },
    warmup: { kind: 'int', min: 0, default: 5, help: 'rounds run first and not counted' },
    json: { kind: 'string', value: 'FILE', help: 'also write the figures as JSON' },
    gap: { kind: 'int', min: 1, value: 'MS', help: 'the idle mode: MS of sleep before each datagram' },
    datagrams: { kind: 'int', min: 1, default: 100, help: 'with --gap: datagrams of each recording' },
  },
  footer: 'Exit code: 0, or 2 for bad arguments or recordings that cannot be read.',
} as const satisfies CommandSpec<OptionSpecs>

export const main = async ({ options }: ParsedCommand<typeof command.options>): Promise<number> => {
  const directory = path.resolve(options.recordings ?? path.join(repoRoot(), DEFAULT_RECORDINGS))
  let loaded
  try {
    loaded = loadRecordings(directory)
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  const result = options.gap !== undefined ? await runIdleBench(loaded, options.gap, options.datagrams) : runStepBench(loaded, options.rounds, options.warmup)
  process.stdout.write(`${'gapMs' in result ? formatIdleBench(result) : formatStepBench(result)}\n`)
  if (options.json !== undefined) fs.writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`)
  return 0
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
