import { describe, expect, it } from 'vitest'
import { parseCommand, runCommand, runSubcommands, usage, UsageError, type CommandSpec, type OptionSpecs } from '../../src/cli/args'

const command = {
  name: 'demo',
  summary: 'A command to test the shared parser.',
  synopsis: '[options] <key> [<value>]',
  options: {
    seeds: { kind: 'int', help: 'how many seeds', default: 10, min: 1 },
    rate: { kind: 'number', help: 'a fraction', max: 1 },
    data: { kind: 'string', help: 'the data directory', value: 'DIR' },
    workload: { kind: 'choice', choices: ['own', 'shared'], help: 'which keys', default: 'own' },
    verbose: { kind: 'flag', short: 'v', help: 'say more' },
    peer: { kind: 'list', help: 'a peer', value: 'ID=HOST:PORT' },
  },
  positionals: { min: 1, max: 2 },
} as const satisfies CommandSpec<OptionSpecs>

const parse = (argv: string[]) => parseCommand(command, argv)

describe('the shared argument parser', () => {
  it('types and defaults every kind of option', () => {
    const parsed = parse(['k', '--rate=0.5', '--data', '/tmp/x', '-v', '--peer', 'a', '--peer', 'b'])
    expect(parsed).toEqual({
      options: { seeds: 10, rate: 0.5, data: '/tmp/x', workload: 'own', verbose: true, peer: ['a', 'b'] },
      positionals: ['k'],
    })
  })

  it('reads a negative number as the value of a numeric option', () => {
    expect(parse(['k', '--rate', '-0.5'])).toMatchObject({ options: { rate: -0.5 } })
  })

  it('answers --help and -h with help, whatever else is given', () => {
    expect(parse(['--help'])).toBe('help')
    expect(parse(['-h', '--seeds', '3'])).toBe('help')
  })

  it.each([
    [['k', '--nope'], 'unknown option --nope'],
    [['k', '--seeds'], '--seeds needs a value'],
    [['k', '--seeds', 'x'], '--seeds needs an integer, got "x"'],
    [['k', '--seeds', '0'], '--seeds must be at least 1, got 0'],
    [['k', '--seeds', '-3'], '--seeds must be at least 1, got -3'],
    [['k', '--rate', '2'], '--rate must be at most 1, got 2'],
    [['k', '--workload', 'mine'], '--workload must be one of own, shared; got "mine"'],
    [['k', '--data', '--verbose'], '--data needs a value'],
    [[], 'expected <key> [<value>]'],
    [['a', 'b', 'c'], 'unexpected argument "c"'],
  ])('refuses %j with "%s"', (argv, message) => {
    expect(() => parse(argv)).toThrow(new UsageError(message))
  })

  it('refuses an integer that is not written as one, and an option named after an Object property', () => {
    for (const bad of ['1.5', '3x', '1e3', '0x10', '99999999999999999999']) {
      expect(() => parse(['k', '--seeds', bad])).toThrow(new UsageError(`--seeds needs an integer, got ${JSON.stringify(bad)}`))
    }
    expect(() => parse(['k', '--seeds', ''])).toThrow(new UsageError('--seeds needs a value'))
    expect(() => parse(['k', '--constructor'])).toThrow(new UsageError('unknown option --constructor'))
    expect(() => parse(['k', '--__proto__'])).toThrow(new UsageError('unknown option --__proto__'))
  })

  it('takes a word after a flag for a positional argument, refused where none is expected', () => {
    const noPositionals = { ...command, positionals: { min: 0, max: 0 } }
    expect(() => parseCommand(noPositionals, ['--verbose', 'yes'])).toThrow(new UsageError('unexpected argument "yes"'))
  })

  it('writes a usage text from the same declaration', () => {
    const text = usage(command)
    expect(text).toContain('Usage: demo [options] <key> [<value>]')
    expect(text).toContain('--seeds N')
    expect(text).toContain('(default: 10)')
    expect(text).toContain('-v, --verbose')
    expect(text).toContain('--workload own|shared')
    expect(text).toContain('--data DIR')
    expect(text).toContain('-h, --help')
    expect(usage({ ...command, invocation: 'npm run demo --' })).toMatch(/^Usage: npm run demo -- \[options\] <key> \[<value>\]\n/)
  })

  it('exits 0 on --help, 2 on a usage error, and otherwise with what main returns', async () => {
    const out: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    const writeErr = process.stderr.write.bind(process.stderr)
    process.stdout.write = ((chunk: string) => (out.push(`out:${chunk}`), true)) as typeof process.stdout.write
    process.stderr.write = ((chunk: string) => (out.push(`err:${chunk}`), true)) as typeof process.stderr.write
    try {
      expect(await runCommand(command, ['--help'], () => 5)).toBe(0)
      expect(await runCommand(command, ['--bad'], () => 5)).toBe(2)
      expect(await runCommand(command, ['k'], () => 5)).toBe(5)
      expect(await runCommand(command, ['k'], () => undefined)).toBe(0)
      const subs = { put: { summary: 'put a key', run: async () => 7 } }
      expect(await runSubcommands('tool', 'A tool.', subs, ['put', 'x'])).toBe(7)
      expect(await runSubcommands('tool', 'A tool.', subs, ['--help'])).toBe(0)
      expect(await runSubcommands('tool', 'A tool.', subs, ['nope'])).toBe(2)
      expect(await runSubcommands('tool', 'A tool.', subs, [])).toBe(2)
    } finally {
      process.stdout.write = write
      process.stderr.write = writeErr
    }
    expect(out[0]).toMatch(/^out:Usage: demo/)
    expect(out[1]).toMatch(/^err:demo: unknown option --bad\n\nUsage: demo/)
    expect(out.some((line) => line.startsWith('err:tool: unknown command "nope"'))).toBe(true)
  })
})
