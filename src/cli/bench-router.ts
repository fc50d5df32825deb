/** `npm run bench:router`: what kvsim's routing adds to a datagram (src/sim/bench-router.ts). */
import { benchRouter } from '../sim/bench-router'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'

export const command = {
  name: 'bench:router',
  invocation: 'npm run bench:router --',
  summary: "What kvsim's routing adds to a datagram: the routing decision alone, and a UDP round trip direct and through a router.",
  synopsis: '[options]',
  options: {
    datagrams: { kind: 'int', min: 1, default: 100_000, help: 'routing decisions timed' },
    'round-trips': { kind: 'int', min: 1, default: 5_000, help: 'UDP round trips timed, each way' },
  },
} as const satisfies CommandSpec<OptionSpecs>

export const main = async ({ options }: ParsedCommand<typeof command.options>): Promise<number> => {
  const r = await benchRouter(options.datagrams, options['round-trips'])
  console.log(`core routing decision: ${(r.unicastNs / 1000).toFixed(2)} µs per unicast datagram, ${(r.broadcastNs / 1000).toFixed(2)} µs per broadcast`)
  console.log(`UDP round trip: ${r.directUs.toFixed(1)} µs direct, ${r.routedUs.toFixed(1)} µs through the simulator`)
  console.log(`=> about ${r.perHopUs.toFixed(1)} µs added per routed datagram (one extra receive + decide + send)`)
  return 0
}

if (require.main === module) exitWith(runCommand(command, process.argv.slice(2), main))
