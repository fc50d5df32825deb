/**
 * `npm run check:long -- [--puts N] [--sample-every K] [--seed S]`
 *
 * A long calm run of check:sim's cluster (long-run.ts): about N puts through the reducer with every
 * check on, printing what the replicas hold every K applied entries. Run it with
 * `node --expose-gc` (the npm script does) to print the heap after a full collection too.
 */
import { describeFailure } from '../check/cluster'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'
import { longRun, type Sample } from '../check/long-run'

const options = {
  puts: { kind: 'int', min: 1, default: 1_000_000, help: 'how many puts, about' },
  'sample-every': { kind: 'int', min: 1, default: 100_000, help: 'print a sample every this many applied entries' },
  seed: { kind: 'int', default: 1, help: 'the seed' },
} satisfies OptionSpecs

export const command = {
  name: 'check:long',
  invocation: 'npm run check:long --',
  summary: "A long calm run of check:sim's cluster: about N puts through the reducer with every check on, printing what\nthe replicas hold (log, request IDs, keys) every K applied entries.",
  synopsis: '[options]',
  options,
  footer: 'Exit code: 0 when the run passes every check, 1 when it fails one, 2 for bad arguments.',
} as const satisfies CommandSpec<OptionSpecs>

const row = (s: Sample): string =>
  [
    `${(s.at / 1000).toFixed(0).padStart(6)} s`,
    `applied ${String(s.applied).padStart(8)}`,
    `entries ${String(s.most.entries).padStart(5)}`,
    `MIDs ${String(s.most.mids).padStart(6)}`,
    `keys ${String(s.most.keys).padStart(3)}`,
    `own puts ${String(s.most.ownPuts).padStart(3)}`,
    `as text ${s.most.textKB.toFixed(0).padStart(6)} KB`,
    s.heapMB === undefined ? 'heap: run with --expose-gc' : `heap ${s.heapMB.toFixed(1)} MB`,
  ].join('  ')

export const main = ({ options: args }: ParsedCommand<typeof options>): number => {
  const puts = args.puts
  const gc = (globalThis as { gc?: () => void }).gc
  const began = performance.now()
  console.log('the most any replica holds: log entries, MIDs, keys, own puts, all of it as text; then the process heap (checks included)')
  const { result } = longRun({
    puts,
    sampleEvery: args['sample-every'],
    seed: args.seed,
    gc,
    onSample: (s) => console.log(row(s)),
  })
  const seconds = (performance.now() - began) / 1000
  if (result.failure !== undefined) {
    console.log(`FAILED: ${describeFailure(result.failure)}`)
    return 1
  }
  console.log(
    `ok: ${result.stats.operations} operations, ${result.stats.steps} steps, ${(result.stats.simulatedMs / 1000).toFixed(0)} simulated s in ${seconds.toFixed(1)} s`,
  )
  return 0
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
