/**
 * Linearizability of one register whose writes all write distinct values, decided without search
 * (Gibbons & Korach, "Testing Shared Memories", SIAM J. Computing 26(4), 1997: the read-mapping
 * case). Each read names the write it saw, so the operations fall into clusters, a write and the
 * reads of its value (the reads of the empty initial value form a cluster of their own, behind a
 * write that happened before everything). A linearization is a sequence of whole clusters, each
 * with its write first: the register holds a value from its write to the next write, and a value
 * once overwritten never comes back.
 *
 * Cluster X must come before cluster Y exactly when an operation of X completed before one of Y
 * was invoked: a(X) < b(Y), with a the earliest completion in a cluster and b the latest
 * invocation. An order of the clusters exists exactly when this relation has no cycle, and any
 * cycle contains a pair that must each come before the other (take the cluster of least a on the
 * cycle: the cluster two steps before it completes no earlier, and so precedes the one between).
 * So the history is linearizable exactly when
 *
 * - every read names a value some write wrote (or the initial empty value),
 * - no read completed before its write was invoked,
 * - and no two clusters X and Y have a(X) < b(Y) and a(Y) < b(X).
 *
 * The last test is Gibbons and Korach's zones: a cluster with a < b spans the "forward zone"
 * (a, b), one with a >= b the "backward zone" [b, a]; two clusters conflict when two forward zones
 * overlap or a backward zone lies inside a forward one (two backward zones never conflict). A
 * sweep over the forward zones sorted by a and a binary search for each backward zone find a
 * conflict in O(n log n).
 *
 * A write that never completed may take effect at any time after its invocation, or never. When no
 * read names its value, leaving it out is always a valid choice; when one does, it took effect, at
 * some point in [invocation, +Infinity): exactly an operation that completes after everything.
 */
import { describeOperation, realTimePoints, type Operation } from './operation'

export type ReadMappingVerdict =
  | { readonly kind: 'linearizable' }
  | { readonly kind: 'not linearizable'; readonly reason: string }
  /** The history is not one this algorithm decides (a cas, a value written twice or empty). */
  | { readonly kind: 'not applicable'; readonly why: string }

/** Why the read-mapping algorithm cannot decide these operations (one key's), or undefined when it can. */
export const readMappingInapplicable = (operations: readonly Operation[]): string | undefined => {
  const written = new Set<string>()
  for (const op of operations) {
    if (op.kind === 'cas') return `a cas (${op.id}) reads and writes at once`
    if (op.kind !== 'put') continue
    if (op.value === undefined) return `a put (${op.id}) writes the empty initial value`
    if (written.has(op.value)) return `two puts write ${op.value}`
    written.add(op.value)
  }
  return undefined
}

/**
 * Whether one key's operations can be linearized, for puts that each write their own value. The
 * operations: gets all completed, none failed (linearizability.ts leaves those out).
 */
export const checkByReadMapping = (operations: readonly Operation[]): ReadMappingVerdict => {
  const inapplicable = readMappingInapplicable(operations)
  if (inapplicable !== undefined) return { kind: 'not applicable', why: inapplicable }
  const { invocation, completion } = realTimePoints(operations)

  // Cluster 0: the initial empty value. Cluster k > 0: the k-th put.
  const clusterOfValue = new Map<string, number>()
  const writer: number[] = [-1]
  operations.forEach((op, i) => {
    if (op.kind === 'put') {
      clusterOfValue.set(op.value!, writer.length)
      writer.push(i)
    }
  })
  const clusters = writer.length
  const a = new Float64Array(clusters).fill(Number.POSITIVE_INFINITY)
  const b = new Float64Array(clusters).fill(Number.NEGATIVE_INFINITY)
  /** The operations that set a and b: the earliest completion and the latest invocation. */
  const aOp = new Int32Array(clusters).fill(-1)
  const bOp = new Int32Array(clusters).fill(-1)
  const read = new Uint8Array(clusters)
  const include = (cluster: number, i: number): void => {
    if (completion[i]! < a[cluster]!) {
      a[cluster] = completion[i]!
      aOp[cluster] = i
    }
    if (invocation[i]! > b[cluster]!) {
      b[cluster] = invocation[i]!
      bOp[cluster] = i
    }
  }
  a[0] = Number.NEGATIVE_INFINITY // the initial value was written before everything

  for (let i = 0; i < operations.length; i++) {
    const op = operations[i]!
    if (op.kind !== 'get') continue
    if (op.value === undefined) {
      include(0, i)
      read[0] = 1
      continue
    }
    const cluster = clusterOfValue.get(op.value)
    if (cluster === undefined) return violation(`${describeOperation(op)}: no put wrote that value`)
    const w = writer[cluster]!
    if (completion[i]! < invocation[w]!) {
      return violation(`${describeOperation(op)}: it completed before the put of that value began\n  ${describeOperation(operations[w]!)}`)
    }
    include(cluster, i)
    read[cluster] = 1
  }
  // The clusters that take part: the initial value's if read; a put's if it completed or was read.
  const active: number[] = []
  if (read[0]) active.push(0)
  for (let k = 1; k < clusters; k++) {
    const w = writer[k]!
    if (operations[w]!.completedAt === undefined && !read[k]) continue
    include(k, w)
    active.push(k)
  }

  const forward = active.filter((k) => a[k]! < b[k]!).sort((x, y) => a[x]! - a[y]!)
  // Two forward zones: sorted by a, Y conflicts with an earlier X exactly when X's b passes a(Y).
  let widest = -1
  for (const y of forward) {
    if (widest >= 0 && b[widest]! > a[y]!) return conflict(operations, widest, y, aOp, bOp, writer)
    if (widest < 0 || b[y]! > b[widest]!) widest = y
  }
  // A backward zone Y inside a forward X: among the forward zones with a(X) < b(Y), the widest b.
  const widestUpTo: number[] = []
  for (const x of forward) {
    const before = widestUpTo[widestUpTo.length - 1]
    widestUpTo.push(before === undefined || b[x]! > b[before]! ? x : before)
  }
  for (const y of active) {
    if (a[y]! < b[y]!) continue
    let lo = 0
    let hi = forward.length // the number of forward zones with a(X) < b(Y)
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (a[forward[mid]!]! < b[y]!) lo = mid + 1
      else hi = mid
    }
    if (lo === 0) continue
    const x = widestUpTo[lo - 1]!
    if (b[x]! > a[y]!) return conflict(operations, x, y, aOp, bOp, writer)
  }
  return { kind: 'linearizable' }
}

const violation = (why: string): ReadMappingVerdict => ({ kind: 'not linearizable', reason: `no linearization exists: ${why}` })

/** Clusters x and y must each come before the other: the two pairs of operations that say so. */
const conflict = (
  operations: readonly Operation[],
  x: number,
  y: number,
  aOp: Int32Array,
  bOp: Int32Array,
  writer: readonly number[],
): ReadMappingVerdict => {
  const name = (k: number): string =>
    k === 0 ? 'the reads of the empty initial value' : `the put of ${operations[writer[k]!]!.value} and its reads`
  const before = (from: number, to: number): string =>
    from === 0
      ? `  the initial value was there before ${describeOperation(operations[bOp[to]!]!)}`
      : `  ${describeOperation(operations[aOp[from]!]!)}\n    completed before\n  ${describeOperation(operations[bOp[to]!]!)}`
  return violation(`${name(x)} and ${name(y)} must each come before the other, but a value once overwritten never comes back:\n${before(x, y)}\n  and\n${before(y, x)}`)
}
