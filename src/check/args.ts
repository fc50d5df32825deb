/**
 * The check commands' arguments: each command declares its options (name, kind, allowed values),
 * and anything else (an unknown option, a missing or malformed value, a stray word) is a
 * UsageError, which the command reports with its usage text and exit code 2, as kvsim does. Pure.
 */

export class UsageError extends Error {}

export type OptionSpec =
  | { readonly kind: 'flag'; readonly help: string }
  | { readonly kind: 'int'; readonly help: string; readonly min?: number; readonly max?: number }
  | { readonly kind: 'choice'; readonly help: string; readonly choices: readonly string[] }
  | { readonly kind: 'file'; readonly help: string }

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

export interface Args {
  int(name: string, fallback: number): number
  optionalInt(name: string): number | undefined
  string(name: string): string | undefined
  flag(name: string): boolean
  /** A `file` option's path, as given. */
  file(name: string): string | undefined
  /** `-h` or `--help` was given. */
  readonly help: boolean
}

export const parseArgs = (argv: readonly string[], specs: OptionSpecs): Args => {
  const values = new Map<string, string>()
  const flags = new Set<string>()
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '-h' || arg === '--help') {
      help = true
      continue
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`)
    const name = arg.slice(2)
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined
    if (spec === undefined) throw new UsageError(`unknown option ${arg}`)
    if (spec.kind === 'flag') {
      flags.add(name)
      continue
    }
    const text = argv[++i]
    if (text === undefined || text.startsWith('--')) throw new UsageError(`${arg} needs a value`)
    if (spec.kind === 'int') {
      const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN
      if (!Number.isSafeInteger(n)) throw new UsageError(`${arg} needs an integer, got ${JSON.stringify(text)}`)
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${arg} must be at least ${spec.min}, got ${n}`)
      if (spec.max !== undefined && n > spec.max) throw new UsageError(`${arg} must be at most ${spec.max}, got ${n}`)
    } else if (spec.kind === 'file') {
      if (text === '') throw new UsageError(`${arg} needs a file name`)
    } else if (!spec.choices.includes(text)) {
      throw new UsageError(`${arg} must be one of ${spec.choices.join(', ')}; got ${JSON.stringify(text)}`)
    }
    values.set(name, text)
  }
  const declared = (name: string, kind: OptionSpec['kind']): void => {
    if (specs[name]?.kind !== kind) throw new Error(`the command reads --${name} as ${kind} but declares it otherwise`)
  }
  const optionalInt = (name: string): number | undefined => {
    declared(name, 'int')
    const text = values.get(name)
    return text === undefined ? undefined : Number(text)
  }
  return {
    int: (name, fallback) => optionalInt(name) ?? fallback,
    optionalInt,
    string: (name) => {
      declared(name, 'choice')
      return values.get(name)
    },
    flag: (name) => {
      declared(name, 'flag')
      return flags.has(name)
    },
    file: (name) => {
      declared(name, 'file')
      return values.get(name)
    },
    help,
  }
}

/** The usage text: the synopsis, then one line per option. */
export const usage = (synopsis: string, specs: OptionSpecs, footer = ''): string => {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const value = spec.kind === 'flag' ? '' : spec.kind === 'int' ? ' N' : spec.kind === 'file' ? ' FILE' : ` ${spec.choices.join('|')}`
    return [`  --${name}${value}`, spec.help] as [string, string]
  })
  rows.push(['  -h, --help', 'this text'])
  const width = Math.min(22, Math.max(...rows.map(([left]) => left.length))) + 2
  const lines = rows.map(([left, help]) => (left.length + 2 > width ? `${left}\n${' '.repeat(width)}${help}` : left.padEnd(width) + help))
  return `Usage: ${synopsis}\nOptions:\n${lines.join('\n')}${footer === '' ? '' : `\n${footer}`}`
}

/**
 * A check CLI's arguments, or the exit code it must return at once: 2 after printing the error and
 * the usage to stderr, 0 after printing the usage for `--help`.
 */
export const parseCommandLine = (
  command: string,
  argv: readonly string[],
  specs: OptionSpecs,
  usageText: string,
): Args | { readonly exitCode: 0 | 2 } => {
  let args: Args
  try {
    args = parseArgs(argv, specs)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${command}: ${error.message}\n${usageText}`)
    return { exitCode: 2 }
  }
  if (args.help) {
    console.log(usageText)
    return { exitCode: 0 }
  }
  return args
}
