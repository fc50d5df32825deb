/**
 * The linearizability search over one register (one key's operations), after Wing & Gong and
 * Lowe ("Testing for linearizability", 2017), for what the read-mapping algorithm (read-mapping.ts)
 * cannot decide: a compare-and-set, a value written twice. Repeatedly pick an operation that may
 * take effect next (one invoked before every other pending operation's completion), apply it to
 * the register, and backtrack on a dead end. A state already explored, identified by (set of
 * linearized operations, register value), is never explored twice; the set is a bitset from the
 * first operation not yet linearized, and the value a small number, so the keys stay short.
 *
 * The memo of explored states is bounded (`SearchLimits`): a search that reaches the bound stops
 * with the verdict "undecided" and says which bound, rather than grow until the process fails.
 *
 * Three rules keep the search narrow without changing its verdict:
 *
 * - A get that reads the register's current value changes nothing, so taking it at once is never
 *   worse (Lowe's "immediate" linearization of reads): it is then the only option.
 * - A write (a put, or a cas that succeeds) that never completed may take effect at any time after
 *   its invocation, or never. In any linearization, such a write is either followed at once by an
 *   operation that observes its value (a get that reads it, a cas that expects it), or it can be
 *   left out (the next write overwrites its value unseen, or nothing follows). So it is taken only
 *   just before an observer that may go next ("just in time", as Lowe's and Horn's checkers treat
 *   pending operations), and the caller leaves out pending puts whose value nothing observes.
 * - When every write writes its own value, a value once overwritten never comes back: a completed
 *   get (or cas) that observes value v pins it between v's write and the next write. So no write
 *   may overwrite the current value while another completed observer of it is still to be placed.
 */
import { realTimePoints, type Operation } from './operation'

export interface SearchLimits {
  /**
   * The memo's size bound, in bytes as estimated: 2 per character of each state's key (a string)
   * plus 64 per entry (the Set's slot and the string's header).
   */
  readonly memoBytes: number
  /** The most states entered (explored or found in the memo), so that the time is bounded too. */
  readonly steps: number
}

/** 256 MiB of memo (at most about 4 million states, far below a Set's 2^24 entries) and 20 million steps. */
export const defaultSearchLimits: SearchLimits = { memoBytes: 256 * 1024 * 1024, steps: 20_000_000 }

export type SearchResult =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'not linearizable'; readonly reason: string }
  | { readonly kind: 'undecided'; readonly reason: string }

const ENTRY_BYTES = 64

/**
 * Whether `operations` (one key's, sorted by invocation; gets all completed, none failed) can be
 * linearized on one register whose initial value is undefined.
 */
export const searchRegister = (operations: readonly Operation[], limits: SearchLimits = defaultSearchLimits): SearchResult => {
  const count = operations.length
  const { invocation, completion } = realTimePoints(operations)
  const completed = operations.map((op) => op.completedAt !== undefined)
  const isGet = operations.map((op) => op.kind === 'get')
  const isCas = operations.map((op) => op.kind === 'cas')
  const mustComplete = completed.filter(Boolean).length
  // When every operation completes no earlier than it was invoked (always, in a real history),
  // an operation invoked after the earliest completion seen so far cannot complete earlier, nor
  // can any later one: the scans below stop there instead of running to the end of the history.
  const ordered = operations.every((_, i) => completion[i]! >= invocation[i]!)
  // The register holds the initial value (0) or a written value: each distinct value gets a number.
  const valueIds = new Map<string | undefined, number>([[undefined, 0]])
  const idOf = (value: string | undefined): number => {
    let id = valueIds.get(value)
    if (id === undefined) valueIds.set(value, (id = valueIds.size))
    return id
  }
  for (const op of operations) if (!isGetOp(op)) idOf(op.value)
  /** A get's value read; a put's or cas's value written. A read of a value nothing wrote gets a number no register holds. */
  const valueOf = operations.map((op) => idOf(op.value))
  /** A cas's expected value (-1 for others). */
  const expectedOf = operations.map((op) => (op.kind === 'cas' ? idOf(op.expected) : -1))
  /** Whether operation j observes value v: reads it, or compares with it. */
  const observes = (j: number, v: number): boolean => (isGet[j] ? valueOf[j] === v : isCas[j] === true && expectedOf[j] === v)
  const written = operations.filter((op) => !isGetOp(op)).map((op) => op.value)
  const uniqueWrites = !written.includes(undefined) && new Set(written).size === written.length
  /** Completed observers (gets and cas) not yet linearized, by the value they observe. */
  const observersLeft = new Int32Array(valueIds.size)
  for (let i = 0; i < count; i++) if (completed[i] && (isGet[i] || isCas[i])) observersLeft[isGet[i] ? valueOf[i]! : expectedOf[i]!]!++

  const linearized = new Uint8Array(count)
  const explored = new Set<string>()
  let memoBytes = 0
  let steps = 0
  let linearizedCompleted = 0
  let linearizedCount = 0
  /** The first operation not linearized: every one before it is. */
  let lo = 0
  let deepest = 0

  /** The set of linearized operations (lo, then the bits from lo to the last one set) and the register. */
  const stateKey = (value: number): string => {
    let bits = ''
    let ones = linearizedCount - lo
    for (let i = lo; ones > 0; i += 16) {
      let word = 0
      for (let j = i; j < Math.min(i + 16, count); j++) {
        if (linearized[j]) {
          word |= 1 << (j - i)
          ones--
        }
      }
      bits += String.fromCharCode(word)
    }
    return `${lo}:${bits.length}:${bits}${value}`
  }

  /** Indices of the operations that may take effect next: invoked before every other pending one's completion. */
  const candidates = (): number[] => {
    let earliestCompletion = Number.POSITIVE_INFINITY
    for (let i = lo; i < count; i++) {
      if (ordered && invocation[i]! > earliestCompletion) break
      if (!linearized[i] && completion[i]! < earliestCompletion) earliestCompletion = completion[i]!
    }
    const result: number[] = []
    for (let i = lo; i < count; i++) {
      if (invocation[i]! > earliestCompletion) break // sorted by invocation
      if (!linearized[i]) result.push(i)
    }
    return result
  }

  /** What may be taken next with the register holding `value`, by the three rules above. */
  const options = (value: number): number[] => {
    const next = candidates()
    const freeRead = next.find((i) => isGet[i] && valueOf[i] === value)
    if (freeRead !== undefined) return [freeRead]
    return next.filter((i) => {
      if (isGet[i]) return false // a get of another value cannot go now
      if (isCas[i] && expectedOf[i] !== value) return false // a cas that fails does not take effect
      // The current value may be overwritten only once no other completed observer of it is left.
      const selfObserves = completed[i] && isCas[i] ? 1 : 0
      if (uniqueWrites && valueOf[i] !== value && observersLeft[value]! - selfObserves > 0) return false
      return completed[i] || next.some((j) => j !== i && observes(j, valueOf[i]!))
    })
  }

  const mark = (i: number, on: boolean): void => {
    linearized[i] = on ? 1 : 0
    linearizedCount += on ? 1 : -1
    if (completed[i]) {
      linearizedCompleted += on ? 1 : -1
      if (isGet[i] || isCas[i]) observersLeft[isGet[i] ? valueOf[i]! : expectedOf[i]!]! += on ? -1 : 1
    }
    if (on) while (lo < count && linearized[lo]) lo++
    else if (i < lo) lo = i
  }

  /**
   * The depth-first search, with its own stack (a history of thousands of operations on one key
   * would overflow the call stack): a frame is a state entered with the register holding `value`,
   * the operations it may take next, and the one taken now (undone when its subtree fails).
   */
  interface Frame {
    readonly value: number
    choices: number[] | undefined
    next: number
    taken: number
  }
  const search = (): 'found' | 'exhausted' | 'memo' | 'steps' => {
    const stack: Frame[] = [{ value: 0, choices: undefined, next: 0, taken: -1 }]
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!
      if (frame.choices === undefined) {
        if (linearizedCompleted === mustComplete) return 'found'
        if (++steps > limits.steps) return 'steps'
        deepest = Math.max(deepest, linearizedCompleted)
        const key = stateKey(frame.value)
        if (explored.has(key)) {
          stack.pop()
          continue
        }
        memoBytes += 2 * key.length + ENTRY_BYTES
        if (memoBytes > limits.memoBytes) return 'memo'
        explored.add(key)
        frame.choices = options(frame.value)
      }
      if (frame.taken >= 0) {
        mark(frame.taken, false)
        frame.taken = -1
      }
      if (frame.next >= frame.choices.length) {
        stack.pop()
        continue
      }
      const i = frame.choices[frame.next++]!
      mark(i, true)
      frame.taken = i
      stack.push({ value: isGet[i] ? frame.value : valueOf[i]!, choices: undefined, next: 0, taken: -1 })
    }
    return 'exhausted'
  }

  const outcome = search()
  if (outcome === 'found') return { kind: 'linearizable' }
  const progress = `at most ${deepest} of ${mustComplete} completed operations could be ordered`
  if (outcome === 'exhausted') {
    return {
      kind: 'not linearizable',
      reason:
        `no linearization exists: ${progress} consistently with their real-time order and a single register ` +
        `(searched ${explored.size} states)`,
    }
  }
  const bound =
    outcome === 'memo'
      ? `its memo reached ${(limits.memoBytes / 2 ** 20).toFixed(0)} MiB (${explored.size} states)`
      : `it entered ${limits.steps} states`
  return { kind: 'undecided', reason: `undecided: the search of ${count} operations stopped when ${bound}; ${progress} so far` }
}

const isGetOp = (op: Operation): boolean => op.kind === 'get'

/**
 * A write that never completed may also never take effect; when nothing observes its value (no
 * completed get reads it, no cas expects it), leaving it out is always a valid choice (a register
 * that never held a value nobody saw behaves the same), so the search need not consider it.
 */
export const withoutUnobservedPendingWrites = (operations: readonly Operation[]): Operation[] => {
  const observed = new Set<string | undefined>()
  for (const op of operations) {
    if (op.kind === 'get') observed.add(op.value)
    else if (op.kind === 'cas') observed.add(op.expected)
  }
  return operations.filter((op) => op.kind === 'get' || op.completedAt !== undefined || observed.has(op.value))
}
