/** `npm run bench:put`: puts per second and put latency of five real replicas (src/bench/put-bench.ts). */
import { runPutBench } from '../bench/put-bench'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'

export const command = {
  name: 'bench:put',
  invocation: 'npm run bench:put --',
  summary:
    'Puts per second and put latency of five 3700kvstore processes behind a router that delivers every datagram at once,\nwith closed-loop clients (each sends its next put when the last is answered), after a one-second warm-up.',
  synopsis: '[options]',
  options: {
    data: { kind: 'flag', help: 'the replicas keep their state on disk (a temporary data directory)' },
    clients: { kind: 'int', min: 1, default: 8, help: 'closed-loop clients' },
    seconds: { kind: 'number', min: 0.1, default: 10, help: 'how long the puts are counted' },
  },
} as const satisfies CommandSpec<OptionSpecs>

export const main = async ({ options }: ParsedCommand<typeof command.options>): Promise<number> => {
  await runPutBench(options)
  return 0
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
