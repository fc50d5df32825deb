/**
 * `npm run check:sim -- --seeds N [--start S] [--replicas R] [--seconds T] [--mutant NAME] [--freeze] [--verbose]`
 *
 * Runs N seeds of the deterministic cluster simulation (each seed with its own network and fault
 * mix), stops at the first failure and prints its seed and trace; prints the throughput.
 */
import { describeFailure, simulate, sweepOptions, type SimOptions } from './cluster'
import { mutants, type MutantName } from './mutants'
import { setAutoFreeze } from 'immer'
import { parseArgs } from './args'

const main = (): number => {
  const args = parseArgs(process.argv.slice(2))
  const seeds = args.int('seeds', 100)
  const start = args.int('start', 1)
  const seconds = args.int('seconds', 20)
  const replicas = args.optionalInt('replicas')
  const mutant = args.string('mutant') as MutantName | undefined
  const verbose = args.flag('verbose')
  // A driver's choice: the reducer's semantics do not depend on immer freezing the states it
  // returns, and freezing costs about a tenth of every step. `--freeze` keeps immer's default.
  if (!args.flag('freeze')) setAutoFreeze(false)
  const base: { -readonly [K in keyof SimOptions]?: SimOptions[K] } = { faultPhaseMs: seconds * 1000 }
  if (replicas !== undefined) Object.assign(base, { replicas })
  if (mutant !== undefined) {
    const make = mutants[mutant]
    if (make === undefined) {
      console.error(`unknown mutant ${mutant}; known: ${Object.keys(mutants).join(', ')}`)
      return 2
    }
    Object.assign(base, make.options, { step: make.step })
  }

  const began = performance.now()
  let steps = 0
  let simulatedMs = 0
  let operations = 0
  let failures = 0
  for (let seed = start; seed < start + seeds; seed++) {
    const result = simulate(sweepOptions(seed, base))
    steps += result.stats.steps
    simulatedMs += result.stats.simulatedMs
    operations += result.stats.operations
    if (verbose) console.log(`seed ${seed}: ${JSON.stringify(result.stats)}`)
    if (result.failure !== undefined) {
      failures++
      console.log(describeFailure(result.failure))
      break
    }
  }
  const realSeconds = (performance.now() - began) / 1000
  console.log(
    `${failures === 0 ? 'ok' : 'FAILED'}: seeds ${start}..${start + seeds - 1}` +
      `, ${(simulatedMs / 1000).toFixed(0)} simulated s, ${steps} steps, ${operations} client requests in ${realSeconds.toFixed(2)} s` +
      `\nthroughput: ${(simulatedMs / 1000 / realSeconds).toFixed(0)} simulated s per real s, ${(steps / realSeconds).toFixed(0)} steps/s`,
  )
  return failures === 0 ? 0 : 1
}

process.exitCode = main()
