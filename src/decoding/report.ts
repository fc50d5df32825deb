/**
 * The one io-ts error reporter for every file the project decodes (scenario files, and any other
 * decoded file): each problem says which field, the value found, and what is expected there, in
 * words a person can act on, e.g.
 *
 *   field "lifetime": expected an integer of at least 5 (seconds), got 3
 *   field "tests": missing; expected an object with "benchmarks" (and optional maximum_*_fraction fields)
 *
 * What is expected is the name of the codec at that field, so codecs for files are named in those
 * words (`t.refinement(..., 'an integer of at least 5 (seconds)')`). io-ts reports one error per
 * branch of an intersection or a union; the reporter names the field once, by its outermost codec.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'

interface Field {
  /** As written in the file: `tests.benchmarks.total_msgs`, `events.2.time`; '' for the whole file. */
  readonly path: string
  /** The codecs at that field, outermost first (an intersection, then its branches...). */
  readonly codecs: readonly t.Decoder<unknown, unknown>[]
  /** The value found there (undefined: missing). */
  readonly value: unknown
}

/**
 * The field an error is about. io-ts puts the branch number of an intersection or a union in the
 * path: that is not a field. An error inside a union is reported at the union (which branch was
 * meant is not known). A missing element of a tuple (`[1, 2]` for three numbers) is reported
 * at the tuple, with the tuple as found.
 */
const fieldOf = (context: t.Context): Field => {
  const keys: string[] = []
  let start = 0
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1]!.type
    // Which branch of a union was meant is not known: the union's own field is what is wrong.
    if (parent instanceof t.UnionType) break
    if (parent instanceof t.IntersectionType) continue
    if (parent instanceof t.TupleType && context[context.length - 1]!.actual === undefined) break
    keys.push(context[i]!.key)
    start = i
  }
  let end = context.length
  for (let i = start + 1; i < context.length; i++) {
    const parent = context[i - 1]!.type
    if (!(parent instanceof t.IntersectionType)) {
      end = i
      break
    }
  }
  const entries = context.slice(start, end)
  return { path: keys.join('.'), codecs: entries.map((entry) => entry.type), value: entries[0]?.actual }
}

/** A codec's name when a person wrote it; io-ts's own names (`{ a: number }`, `Partial<...>`) are not. */
const written = (codec: t.Decoder<unknown, unknown>): boolean => !/^(\{|Partial<|\(|\[|Array<)/.test(codec.name)

const shown = (value: unknown): string => {
  const text = JSON.stringify(value)
  if (text === undefined) return String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** One line per field in error, in the order io-ts found them, at most `limit` of them. */
export const describeDecodeErrors = (errors: t.Errors, limit = 8): string[] => {
  const byField = new Map<string, string>()
  for (const error of errors) {
    const { path, codecs, value } = fieldOf(error.context)
    if (byField.has(path)) continue
    const field = path === '' ? 'the file' : `field "${path}"`
    // The innermost name a person wrote, else the outermost: what the field is, in the file's terms.
    const codec = [...codecs].reverse().find(written) ?? codecs[0]
    const expected = codec?.name ?? 'something else'
    const line =
      error.message !== undefined
        ? `${field}: ${error.message}`
        : value === undefined
          ? `${field}: missing; expected ${expected}`
          : `${field}: expected ${expected}, got ${shown(value)}`
    byField.set(path, line)
  }
  const lines = [...byField.values()]
  return lines.length > limit ? [...lines.slice(0, limit), `(and ${lines.length - limit} more)`] : lines
}

/** Decodes a parsed value; the problems, one per line, when it does not fit. */
export const decodeOrExplain = <A>(codec: t.Decoder<unknown, A>, value: unknown): E.Either<string[], A> =>
  E.mapLeft(describeDecodeErrors)(codec.decode(value))
