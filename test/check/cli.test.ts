/** The check commands, through the compiled dist/src/cli/check-*.js (`npm test` builds first). */
import { spawnSync } from 'child_process'
import * as os from 'os'
import * as path from 'path'
import { describe, expect, it } from 'vitest'

const root = path.resolve(__dirname, '../..')
const run = (command: 'check-sim' | 'check-model', args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'dist/src/cli', `${command}.js`), ...args], { encoding: 'utf8', timeout: 240_000 })

/** The report without the lines that carry wall-clock time. */
const withoutTimes = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((line) => !line.startsWith('throughput:'))
    .map((line) => line.replace(/ in [\d.]+ s$/, ''))
    .join('\n')

describe('check:sim and check:model reject what they do not understand', () => {
  const cases: [command: 'check-sim' | 'check-model', args: string[], message: RegExp][] = [
    ['check-sim', ['--seeds', '2', '--bogus', '1'], /unknown option --bogus/],
    ['check-sim', ['--seeds', 'many'], /--seeds needs an integer, got "many"/],
    ['check-sim', ['--seeds', '0'], /--seeds must be at least 1/],
    ['check-sim', ['--workers', '0'], /--workers must be at least 1/],
    ['check-sim', ['--mutant', 'nope'], /--mutant must be one of commit-previous-term, /],
    ['check-sim', ['--seeds'], /--seeds needs a value/],
    ['check-sim', ['--workload', 'mine'], /--workload must be one of own, shared; got "mine"/],
    ['check-sim', ['2'], /unexpected argument "2"/],
    ['check-model', ['--bogus'], /unknown option --bogus/],
    ['check-model', ['--bound', '-1'], /--bound must be at least 0/],
    ['check-model', ['--states', '1.5'], /--states needs an integer/],
    ['check-model', ['--figure8', 'yes'], /unexpected argument "yes"/],
  ]
  for (const [command, args, message] of cases) {
    it(`${command} ${args.join(' ')}: usage and exit code 2, nothing run`, () => {
      const result = run(command, args)
      expect(result.status).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(result.stderr).toMatch(/Usage: npm run check:(sim|model) -- \[options\]/)
      expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
      expect(result.stdout).toBe('')
    })
  }

  it('--help prints the usage and exits 0', () => {
    for (const command of ['check-sim', 'check-model'] as const) {
      const result = run(command, ['--help'])
      expect(result.status).toBe(0)
      expect(result.stdout).toMatch(/^Usage: npm run check:/)
    }
  })
})

describe('check:sim --workers', () => {
  it('reports the same first failing seed, trace and totals as one thread', () => {
    const args = ['--seeds', '30', '--seconds', '10', '--mutant', 'vote-without-up-to-date-check']
    const one = run('check-sim', [...args, '--workers', '1'])
    const three = run('check-sim', [...args, '--workers', '3'])
    expect(one.status).toBe(1)
    expect(three.status).toBe(1)
    expect(one.stdout).toMatch(/^seed \d+: Leader Completeness violated/)
    expect(one.stdout).toMatch(/\(this thread\)/)
    expect(three.stdout).toMatch(/\(3 worker threads\)/)
    expect(withoutTimes(three.stdout)).toBe(withoutTimes(one.stdout))
  })

  it('passes a clean sweep with the same totals as one thread', () => {
    const args = ['--seeds', '6', '--seconds', '3', '--verbose']
    const one = run('check-sim', [...args, '--workers', '1'])
    const two = run('check-sim', [...args, '--workers', '2'])
    expect(one.status).toBe(0)
    expect(two.status).toBe(0)
    expect(one.stdout).toMatch(/^seed 1: .*\nseed 2: /)
    expect(withoutTimes(two.stdout)).toBe(withoutTimes(one.stdout))
  })

  it('runs in this thread by default below 200 seeds, on every core from 200', () => {
    const few = run('check-sim', ['--seeds', '3', '--seconds', '1'])
    expect(few.status).toBe(0)
    expect(few.stdout).toMatch(/\(this thread\)\n$/)
    const many = run('check-sim', ['--seeds', '200', '--seconds', '1'])
    expect(many.status).toBe(0)
    const cores = os.availableParallelism()
    expect(many.stdout).toMatch(cores === 1 ? /\(this thread\)\n$/ : new RegExp(`\\(${cores} worker threads\\)\\n$`))
  })
})

describe('check:sim --workload shared', () => {
  it('finds the deposed leader\'s stale read through the linearizability checker, in workers too', () => {
    const result = run('check-sim', ['--seeds', '10', '--workload', 'shared', '--mutant', 'get-from-deposed-leader', '--workers', '2'])
    expect(result.status).toBe(1)
    expect(result.stdout).toMatch(/^seed \d+: Linearizability violated at t=\d+ ms\n  key shared-key-/)
  })
})
