import { describe, expect, it } from 'vitest'
import { parseArgs, usage, UsageError, type OptionSpecs } from '../../src/check/args'

const specs = {
  seeds: { kind: 'int', min: 1, help: 'how many' },
  start: { kind: 'int', help: 'first' },
  replicas: { kind: 'int', min: 1, max: 21, help: 'replicas' },
  mutant: { kind: 'choice', choices: ['a-bug', 'b-bug'], help: 'a bug' },
  verbose: { kind: 'flag', help: 'talk' },
} satisfies OptionSpecs

const rejects = (argv: string[], message: RegExp): void => {
  expect(() => parseArgs(argv, specs)).toThrow(UsageError)
  expect(() => parseArgs(argv, specs)).toThrow(message)
}

describe('the check commands read their arguments', () => {
  it('reads declared options, with fallbacks for those not given', () => {
    const args = parseArgs(['--seeds', '30', '--start', '-4', '--mutant', 'b-bug', '--verbose'], specs)
    expect(args.int('seeds', 100)).toBe(30)
    expect(args.int('start', 1)).toBe(-4)
    expect(args.optionalInt('replicas')).toBeUndefined()
    expect(args.int('replicas', 3)).toBe(3)
    expect(args.string('mutant')).toBe('b-bug')
    expect(args.flag('verbose')).toBe(true)
    expect(args.help).toBe(false)
    const none = parseArgs([], specs)
    expect(none.flag('verbose')).toBe(false)
    expect(none.string('mutant')).toBeUndefined()
    expect(parseArgs(['-h'], specs).help).toBe(true)
    expect(parseArgs(['--help'], specs).help).toBe(true)
  })

  it('rejects an unknown option, even one that looks like a flag', () => {
    rejects(['--seeds', '2', '--bogus', '1'], /unknown option --bogus/)
    rejects(['--bogus'], /unknown option --bogus/)
    rejects(['--constructor'], /unknown option --constructor/)
  })

  it('rejects a stray word, including a value given to a flag', () => {
    rejects(['extra'], /unexpected argument "extra"/)
    rejects(['--verbose', 'yes'], /unexpected argument "yes"/)
  })

  it('rejects a missing value', () => {
    rejects(['--seeds'], /--seeds needs a value/)
    rejects(['--seeds', '--verbose'], /--seeds needs a value/)
  })

  it('rejects an integer option whose value is not a whole number, or out of range', () => {
    for (const bad of ['abc', '1.5', '3x', '', '1e3', '0x10', '99999999999999999999']) rejects(['--seeds', bad], /--seeds needs an integer/)
    rejects(['--seeds', '0'], /--seeds must be at least 1, got 0/)
    rejects(['--replicas', '22'], /--replicas must be at most 21, got 22/)
  })

  it('rejects a value outside a choice, naming the choices', () => {
    rejects(['--mutant', 'c-bug'], /--mutant must be one of a-bug, b-bug; got "c-bug"/)
  })

  it('will not read an option the command did not declare, or read one as another kind', () => {
    const args = parseArgs([], specs)
    expect(() => args.int('workers', 1)).toThrow(/--workers/)
    expect(() => args.flag('seeds')).toThrow(/--seeds/)
  })

  it('prints a usage text that lists every option and its values', () => {
    const text = usage('cmd [options]', specs, 'Exit code: 2 for bad arguments.')
    expect(text).toMatch(/^Usage: cmd \[options\]\n/)
    expect(text).toMatch(/--seeds N +how many/)
    expect(text).toMatch(/--mutant a-bug\|b-bug/)
    expect(text).toMatch(/--verbose +talk/)
    expect(text).toMatch(/-h, --help/)
    expect(text).toMatch(/Exit code: 2 for bad arguments\.$/)
  })
})
