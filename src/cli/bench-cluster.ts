/** `npm run bench:cluster`: raftkv against etcd 3.4 on this machine (src/bench/cluster-bench.ts). */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ETCD, measure, medianTable, row, startEtcd, startRaftkv, type Measurement, type System } from '../bench/cluster-bench'
import { repoRoot } from '../sim/paths'
import { exitWith, runCommand, UsageError, type CommandSpec, type OptionSpecs } from './args'

const command = {
  name: 'bench:cluster',
  summary: 'raftkv against etcd 3.4: closed-loop HTTP load on 3-replica clusters on loopback, fsync on.',
  synopsis: '[options]',
  options: {
    seconds: { kind: 'number', default: 20, min: 0.5, help: 'seconds counted per measurement' },
    warmup: { kind: 'number', default: 2, min: 0, help: 'seconds of load before counting' },
    clients: { kind: 'string', default: '1,16,64', help: 'concurrent clients, one measurement each', value: 'LIST' },
    rounds: { kind: 'int', default: 1, min: 1, help: 'measure every row this many times, in turn (a shared machine: more rounds, and the medians)' },
    systems: { kind: 'string', default: 'raftkv,etcd', help: 'which systems (raftkv, etcd)', value: 'LIST' },
    keys: { kind: 'int', default: 1000, min: 1, help: 'keys the load spreads over' },
    'value-bytes': { kind: 'int', default: 100, min: 1, max: 65536, help: "each put's value" },
    'get-fraction': { kind: 'number', default: 0.2, min: 0, max: 1, help: 'the share of gets' },
    json: { kind: 'string', help: 'also write the results as JSON here', value: 'FILE' },
    profile: { kind: 'string', help: "run raftkv's replicas under V8's CPU profiler, a .cpuprofile each in DIR (Chrome DevTools opens them)", value: 'DIR' },
  },
  footer: 'etcd: Debian\'s etcd-server package (apt-get install etcd-server) puts it at /usr/bin/etcd.',
} as const satisfies CommandSpec<OptionSpecs>

const main = async (argv: readonly string[]): Promise<number> =>
  runCommand(command, argv, async ({ options }) => {
    const clientCounts = options.clients.split(',').map((s) => Number(s.trim()))
    if (clientCounts.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError('--clients takes whole numbers, comma-separated')
    const wanted = options.systems.split(',').map((s) => s.trim())
    if (wanted.some((s) => s !== 'raftkv' && s !== 'etcd')) throw new UsageError('--systems takes raftkv and etcd')
    let systems = wanted as System[]
    if (systems.includes('etcd') && !fs.existsSync(ETCD)) {
      process.stdout.write(`etcd is not installed (${ETCD}); measuring raftkv alone. To compare: apt-get install etcd-server\n`)
      systems = systems.filter((s) => s !== 'etcd')
    }
    if (!fs.existsSync(path.join(repoRoot(), 'dist/src/cli/raftkv.js'))) throw new UsageError('build first: npm run build')
    process.stdout.write(
      `bench:cluster: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ` +
        `${new Date().toISOString()}; ${options.seconds} s per measurement after ${options.warmup} s of warm-up\n\n`,
    )
    process.stdout.write('| system | clients | ops/s | p50 ms | p99 ms | errors | CPU per replica | CPU of the load |\n| --- | --: | --: | --: | --: | --: | --- | --: |\n')
    const results: Measurement[] = []
    for (let round = 0; round < options.rounds; round++) {
      for (const [i, clients] of clientCounts.entries()) {
        // Alternate which system goes first, from row to row and round to round, so that neither
        // always meets the machine as the other left it.
        const order = (round + i) % 2 === 0 ? systems : [...systems].reverse()
        for (const system of order) {
          const running = system === 'raftkv' ? await startRaftkv(options.profile === undefined ? undefined : path.resolve(options.profile)) : await startEtcd()
          try {
            const m = await measure(running, clients, {
              seconds: options.seconds,
              warmup: options.warmup,
              keys: options.keys,
              valueBytes: options['value-bytes'],
              getFraction: options['get-fraction'],
            })
            results.push(m)
            process.stdout.write(`${row(m)}\n`)
          } finally {
            await running.stop()
          }
        }
      }
    }
    if (options.rounds > 1) {
      process.stdout.write(`\nMedians of ${options.rounds} rounds:\n\n${medianTable(results)}`)
    }
    process.stdout.write(`\nload average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
    if (options.json !== undefined) fs.writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`)
    return 0
  })

exitWith(main(process.argv.slice(2)))
