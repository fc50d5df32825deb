/** A minimal `--name value` / `--flag` argument reader for the check commands. */
export interface Args {
  int(name: string, fallback: number): number
  optionalInt(name: string): number | undefined
  string(name: string): string | undefined
  flag(name: string): boolean
}

export const parseArgs = (argv: readonly string[]): Args => {
  const values = new Map<string, string>()
  const flags = new Set<string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`)
    const name = arg.slice(2)
    const next = argv[i + 1]
    if (next !== undefined && !next.startsWith('--')) {
      values.set(name, next)
      i++
    } else flags.add(name)
  }
  const optionalInt = (name: string): number | undefined => {
    const text = values.get(name)
    if (text === undefined) return undefined
    const n = Number(text)
    if (!Number.isSafeInteger(n)) throw new Error(`--${name} wants an integer, got ${text}`)
    return n
  }
  return {
    int: (name, fallback) => optionalInt(name) ?? fallback,
    optionalInt,
    string: (name) => values.get(name),
    flag: (name) => flags.has(name),
  }
}
