/**
 * One argument style for every command of the project, built on Node's `util.parseArgs`.
 *
 * A command declares its options once (kind, help, default); the same declaration parses the
 * arguments, types the result, and writes the usage text. The rules every command then shares:
 * `-h`/`--help` prints the usage on stdout and exits 0; an unknown option, a missing or malformed
 * value, or a wrong number of positional arguments prints the error and the usage on stderr and
 * exits 2. `--name=value` and `--name value` are both accepted.
 */
import { parseArgs as parseNodeArgs } from 'node:util'

export class UsageError extends Error {}

interface Described {
  readonly help: string
  /** A one-letter alias: `-r` for `--replica`. */
  readonly short?: string
  /** The value's name in the usage text (`--data DIR`). */
  readonly value?: string
}

export type OptionSpec =
  | (Described & { readonly kind: 'flag' })
  | (Described & { readonly kind: 'string'; readonly default?: string })
  | (Described & { readonly kind: 'int'; readonly default?: number; readonly min?: number; readonly max?: number })
  | (Described & { readonly kind: 'number'; readonly default?: number; readonly min?: number; readonly max?: number })
  | (Described & { readonly kind: 'choice'; readonly choices: readonly string[]; readonly default?: string })
  /** Repeatable: every occurrence is kept, in order. */
  | (Described & { readonly kind: 'list' })

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** The type a declared option parses to: a default makes it always present. */
export type OptionValue<S extends OptionSpec> = S extends { readonly kind: 'flag' }
  ? boolean
  : S extends { readonly kind: 'list' }
    ? readonly string[]
    : S extends { readonly kind: 'int' | 'number' }
      ? S extends { readonly default: number } ? number : number | undefined
      : S extends { readonly kind: 'choice'; readonly choices: readonly (infer C)[] }
        ? S extends { readonly default: string } ? C : C | undefined
        : S extends { readonly default: string } ? string : string | undefined

export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]: OptionValue<O[K]> }

export interface CommandSpec<O extends OptionSpecs> {
  /** As typed: `raftkv put`, `kvsim`; names the command in its error messages. */
  readonly name: string
  /** How the usage line writes the command when it is run otherwise than by its name: `npm run check:sim --`. */
  readonly invocation?: string
  /** What the command does, in one line. */
  readonly summary: string
  /** What follows the name: `[options] <key> <value>`. */
  readonly synopsis: string
  readonly options: O
  /** How many positional arguments the command takes (default: none). */
  readonly positionals?: { readonly min: number; readonly max: number }
  /** Text after the options: exit codes, examples. */
  readonly footer?: string
}

export interface ParsedCommand<O extends OptionSpecs> {
  readonly options: OptionValues<O>
  readonly positionals: readonly string[]
}

const HELP: OptionSpec = { kind: 'flag', short: 'h', help: 'print this text and exit' }

const checkNumber = (name: string, spec: OptionSpec & { kind: 'int' | 'number' }, text: string): number => {
  const n = spec.kind === 'int' ? (/^-?\d+$/.test(text) ? Number(text) : Number.NaN) : text.trim() === '' ? Number.NaN : Number(text)
  if (!(spec.kind === 'int' ? Number.isSafeInteger(n) : Number.isFinite(n))) {
    throw new UsageError(`--${name} needs ${spec.kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}`)
  }
  if (spec.min !== undefined && n < spec.min) throw new UsageError(`--${name} must be at least ${spec.min}, got ${n}`)
  if (spec.max !== undefined && n > spec.max) throw new UsageError(`--${name} must be at most ${spec.max}, got ${n}`)
  return n
}

/** Parses `argv` (without the program's name) by the command's declaration; `help` when asked for. */
export const parseCommand = <O extends OptionSpecs>(
  command: CommandSpec<O>,
  argv: readonly string[],
): ParsedCommand<O> | 'help' => {
  const nodeOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const [name, spec] of Object.entries({ ...command.options, help: HELP })) {
    nodeOptions[name] = {
      type: spec.kind === 'flag' ? 'boolean' : 'string',
      ...(spec.short === undefined ? {} : { short: spec.short }),
      ...(spec.kind === 'list' ? { multiple: true } : {}),
    }
  }
  let parsed: ReturnType<typeof parseNodeArgs>
  try {
    parsed = parseNodeArgs({ args: withNegativeNumbers(command.options, argv), options: nodeOptions, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError(describeNodeError(error))
  }
  if (parsed.values['help'] === true) return 'help'
  const values: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(command.options)) {
    const raw = parsed.values[name]
    if (spec.kind === 'flag') {
      values[name] = raw === true
    } else if (spec.kind === 'list') {
      values[name] = Array.isArray(raw) ? raw : []
    } else if (typeof raw !== 'string') {
      values[name] = spec.default
    } else if (raw === '' || (raw.startsWith('--') && raw.length > 2)) {
      throw new UsageError(`--${name} needs a value`)
    } else if (spec.kind === 'int' || spec.kind === 'number') {
      values[name] = checkNumber(name, spec, raw)
    } else if (spec.kind === 'choice' && !spec.choices.includes(raw)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}; got ${JSON.stringify(raw)}`)
    } else {
      values[name] = raw
    }
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 }
  const positionals = parsed.positionals
  if (positionals.length < min) throw new UsageError(`expected ${command.synopsis.replace(/^\[options\]\s*/, '')}`)
  if (positionals.length > max) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[max])}`)
  }
  return { options: values as OptionValues<O>, positionals }
}

/**
 * `--start -5`: util.parseArgs would take `-5` for an option; a numeric option's value that reads
 * as a negative number is joined to it (`--start=-5`), to be parsed and range-checked as any other.
 */
const withNegativeNumbers = (options: OptionSpecs, argv: readonly string[]): string[] => {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const next = argv[i + 1]
    const spec = arg.startsWith('--') && Object.hasOwn(options, arg.slice(2)) ? options[arg.slice(2)] : undefined
    if ((spec?.kind === 'int' || spec?.kind === 'number') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

/** util.parseArgs's errors name the option; drop its advice about `--` and say it the project's way. */
const describeNodeError = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const unknown = /Unknown option '([^']+)'/.exec(message)
  if (unknown !== null) return `unknown option ${unknown[1]}`
  const missing = /Option '(?:-\w, )?(--[^ ]+)[^']*' argument missing/.exec(message)
  if (missing !== null) return `${missing[1]} needs a value`
  // `--data --verbose`: an option where a value was expected.
  const ambiguous = /Option '(?:-\w, )?(--[^ ']+)[^']*' argument is ambiguous/.exec(message)
  if (ambiguous !== null) return `${ambiguous[1]} needs a value`
  const unexpected = /Unexpected argument '([^']+)'/.exec(message)
  if (unexpected !== null) return `unexpected argument ${JSON.stringify(unexpected[1])}`
  return message.split('\n')[0] ?? message
}

/** The usage text: synopsis, summary, one line per option (with its default), the footer. */
export const usage = <O extends OptionSpecs>(command: CommandSpec<O>): string => {
  const rows = Object.entries({ ...command.options, help: HELP }).map(([name, spec]): [string, string] => {
    const placeholder =
      spec.kind === 'flag' ? '' : ` ${spec.value ?? (spec.kind === 'choice' ? spec.choices.join('|') : spec.kind === 'int' || spec.kind === 'number' ? 'N' : 'VALUE')}`
    const flag = `${spec.short === undefined ? '    ' : `-${spec.short}, `}--${name}${placeholder}`
    const fallback = 'default' in spec && spec.default !== undefined ? ` (default: ${spec.default})` : ''
    const repeat = spec.kind === 'list' ? ' (may be repeated)' : ''
    return [`  ${flag}`, `${spec.help}${fallback}${repeat}`]
  })
  const width = Math.min(30, Math.max(...rows.map(([left]) => left.length))) + 2
  const lines = rows.map(([left, help]) => (left.length + 2 > width ? `${left}\n${' '.repeat(width)}${help}` : left.padEnd(width) + help))
  const footer = command.footer === undefined ? '' : `\n\n${command.footer}`
  return `Usage: ${command.invocation ?? command.name} ${command.synopsis}\n${command.summary}\n\nOptions:\n${lines.join('\n')}${footer}`
}

/**
 * Runs a command: parses its arguments, answers `--help` (exit 0) and usage errors (exit 2), and
 * otherwise calls `main`, whose number (default 0) becomes the exit code.
 */
export const runCommand = async <O extends OptionSpecs>(
  command: CommandSpec<O>,
  argv: readonly string[],
  main: (parsed: ParsedCommand<O>) => number | void | Promise<number | void>,
): Promise<number> => {
  let parsed: ParsedCommand<O> | 'help'
  try {
    parsed = parseCommand(command, argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`${command.name}: ${error.message}\n\n${usage(command)}\n`)
    return 2
  }
  if (parsed === 'help') {
    process.stdout.write(`${usage(command)}\n`)
    return 0
  }
  try {
    return (await main(parsed)) ?? 0
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`${command.name}: ${error.message}\n\n${usage(command)}\n`)
    return 2
  }
}

export interface Subcommand {
  readonly summary: string
  /** Runs with the arguments after the subcommand's name; resolves to the exit code. */
  readonly run: (argv: readonly string[]) => Promise<number>
}

/**
 * A command made of subcommands (`raftkv serve ...`, `raftkv put ...`): the first argument picks
 * one; none, `-h` or `--help` lists them (exit 0 for help, 2 when none was given).
 */
export const runSubcommands = async (
  name: string,
  summary: string,
  subcommands: Readonly<Record<string, Subcommand>>,
  argv: readonly string[],
): Promise<number> => {
  const [first, ...rest] = argv
  const listing = (): string => {
    const width = Math.max(...Object.keys(subcommands).map((key) => key.length)) + 2
    const rows = Object.entries(subcommands).map(([key, sub]) => `  ${key.padEnd(width)}${sub.summary}`)
    return `Usage: ${name} <command> [options]\n${summary}\n\nCommands:\n${rows.join('\n')}\n\n'${name} <command> --help' describes one.`
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(`${listing()}\n`)
    return 0
  }
  const sub = first === undefined || !Object.hasOwn(subcommands, first) ? undefined : subcommands[first]
  if (sub === undefined) {
    process.stderr.write(`${name}: ${first === undefined ? 'a command is needed' : `unknown command ${JSON.stringify(first)}`}\n\n${listing()}\n`)
    return 2
  }
  return sub.run(rest)
}

/** Runs a CLI's main and exits with its code once stdout and stderr have drained. */
export const exitWith = (code: Promise<number>): void => {
  code.then(
    (n) => {
      process.exitCode = n
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exitCode = 1
    },
  )
}
