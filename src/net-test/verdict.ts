/**
 * The verdict a person reads after a run: operations by outcome, the faults applied, availability
 * second by second, how long the cluster took to serve every client again after the last fault
 * healed, acknowledged writes lost at the final read, replicas that crashed by themselves, and the
 * linearizability checker's judgement. Pure: it reads the history and what the run recorded.
 */
import type { Operation } from '../history/operation'
import type { AppliedFault } from './nemesis-runner'
import { termsWithTwoLeaders, type LeaderSighting } from './leaders'
import type { UnexpectedExit } from './replicas'
import { AIMED_PROCESS, FINAL_READ_PROCESS, type FinalRead } from './workload'

const NS_PER_MS = 1e6

export type Outcome = 'ok' | 'fail' | 'info'

/** An operation of the history as read back (src/history/jepsen.ts): `fail` failed, `info` never completed. */
export const outcomeOf = (op: Operation): Outcome => (op.failed === true ? 'fail' : op.completedAt === undefined ? 'info' : 'ok')

const F_OF = { get: 'read', put: 'write', cas: 'cas' } as const
/** Operations by function, the aimed clients' (workload.ts) apart. */
export type Counts = Record<'read' | 'write' | 'cas' | 'aimed read' | 'aimed write', Record<Outcome, number>>

const isAimed = (op: Operation): boolean => {
  const process = Number(op.client)
  return process >= AIMED_PROCESS && process < FINAL_READ_PROCESS
}

export const countOutcomes = (ops: readonly Operation[]): Counts => {
  const zero = (): Record<Outcome, number> => ({ ok: 0, fail: 0, info: 0 })
  const counts: Counts = { read: zero(), write: zero(), cas: zero(), 'aimed read': zero(), 'aimed write': zero() }
  for (const op of ops) counts[isAimed(op) ? (op.kind === 'get' ? 'aimed read' : 'aimed write') : F_OF[op.kind]][outcomeOf(op)] += 1
  return counts
}

export interface SecondOfAvailability {
  readonly second: number
  /** Operations completed in this second, ok and failed. */
  readonly ok: number
  readonly fail: number
  /** Operations invoked in this second whose outcome stayed unknown (a timeout). */
  readonly info: number
  /** The faults in force at some moment of this second. */
  readonly faults: readonly number[]
}

/** A line per second: completions by outcome, unknown outcomes by invocation, and which faults were in force. */
export const availability = (ops: readonly Operation[], faults: readonly AppliedFault[], durationMs: number): SecondOfAvailability[] => {
  const seconds = Math.ceil(durationMs / 1000)
  const rows = Array.from({ length: seconds }, (_, second) => ({ second, ok: 0, fail: 0, info: 0, faults: [] as number[] }))
  const secondOf = (ns: number): number => Math.floor(ns / NS_PER_MS / 1000)
  for (const op of ops) {
    const outcome = outcomeOf(op)
    const row = rows[secondOf(outcome === 'info' ? op.invokedAt : op.completedAt!)]
    if (row !== undefined) row[outcome] += 1
  }
  for (const f of faults) {
    const end = f.healedAt ?? durationMs
    for (let s = Math.floor(f.startedAt / 1000); s <= Math.floor(end / 1000) && s < seconds; s++) rows[s]?.faults.push(f.id)
  }
  return rows
}

export interface Recovery {
  /** When the last fault healed (ms from the start). */
  readonly healedAt: number
  /** Per client (its first process number), how long after healing its first operation succeeded; undefined: never. */
  readonly perClient: ReadonlyMap<number, number | undefined>
  /** The slowest client's wait; undefined when some client was never served again. */
  readonly worstMs: number | undefined
}

/**
 * Every client must be served again after the faults heal: for each client (processes p, p + n,
 * p + 2n... are one client), the first `ok` of an operation invoked after the healing.
 */
export const recoveryAfter = (ops: readonly Operation[], healedAtMs: number, clients: number): Recovery => {
  const perClient = new Map<number, number | undefined>()
  for (let c = 0; c < clients; c++) perClient.set(c, undefined)
  for (const op of ops) {
    const process = Number(op.client)
    // The final reads and the aimed clients (idle once the faults heal) are no clients of their own.
    if (outcomeOf(op) !== 'ok' || process >= AIMED_PROCESS) continue
    if (op.invokedAt / NS_PER_MS < healedAtMs) continue
    const client = process % clients
    const wait = op.completedAt! / NS_PER_MS - healedAtMs
    const known = perClient.get(client)
    if (known === undefined || wait < known) perClient.set(client, wait)
  }
  const waits = [...perClient.values()]
  return { healedAt: healedAtMs, perClient, worstMs: waits.some((w) => w === undefined) ? undefined : Math.max(0, ...(waits as number[])) }
}

export interface LostWrite {
  readonly key: string
  /** The acknowledged write or cas that the final read does not reflect. */
  readonly lost: Operation
  /** What the final read returned, and the operation that had written it (undefined: the initial empty value). */
  readonly finalValue: string | null
  readonly finalWriter: Operation | undefined
}

/**
 * Acknowledged writes missing at the end. Every written value is unique, so the final value names
 * the one operation that wrote it. An acknowledged write (or cas) invoked after that operation had
 * completed was ordered after it; had it survived, the key could not hold the older value at the
 * end. A final read of the empty value loses every acknowledged write of its key.
 */
export const lostWrites = (ops: readonly Operation[], finals: readonly FinalRead[]): LostWrite[] => {
  const lost: LostWrite[] = []
  for (const final of finals) {
    if (final.value === undefined) continue
    const writes = ops.filter((op) => op.key === final.key && op.kind !== 'get' && op.failed !== true)
    const writer = final.value === null ? undefined : writes.find((op) => op.value === final.value)
    const writerDone = writer === undefined ? Number.NEGATIVE_INFINITY : writer.completedAt
    for (const op of writes) {
      if (outcomeOf(op) !== 'ok' || op === writer) continue
      if (writerDone !== undefined && op.invokedAt > writerDone) lost.push({ key: final.key, lost: op, finalValue: final.value, finalWriter: writer })
    }
  }
  return lost
}

export interface CheckerResult {
  readonly ok: boolean
  /** Why not ok: a violation, or the checker could not decide (its bounds) or failed. */
  readonly verdict?: 'not linearizable' | 'undecided' | 'checker failed'
  readonly key?: string
  readonly reason?: string
  /** The smallest stretch of the history (ms from the start) found to fail on its own. */
  readonly window?: {
    readonly fromMs: number
    readonly toMs: number
    /** Each a line for a person. */
    readonly operations: readonly string[]
    /** The operations' ids in the history as read back (those a person is shown). */
    readonly ids: readonly string[]
  }
}

export interface RunRecord {
  readonly seed: number
  readonly durationMs: number
  /** The history as read back (src/history/jepsen.ts). */
  readonly operations: readonly Operation[]
  readonly faults: readonly AppliedFault[]
  readonly finals: readonly FinalRead[]
  readonly unexpectedExits: readonly UnexpectedExit[]
  readonly clients: number
  /** When the last fault healed, and the bound within which every client must be served again. */
  readonly healedAtMs: number
  readonly recoveryBoundMs: number
  readonly checker: CheckerResult
  /** Every replica seen leading in some term (its /v1/status, polled through the run). */
  readonly leaders?: readonly LeaderSighting[]
}

export interface Verdict {
  readonly passed: boolean
  readonly failures: readonly string[]
  readonly text: string
}

const pad = (n: number, width: number): string => String(n).padStart(width)

export const verdict = (run: RunRecord): Verdict => {
  const ops = run.operations
  const counts = countOutcomes(ops)
  const recovery = recoveryAfter(ops, run.healedAtMs, run.clients)
  const lost = lostWrites(ops, run.finals)
  const failures: string[] = []
  if (!run.checker.ok) failures.push(`${run.checker.verdict ?? 'not linearizable'}: key ${run.checker.key}: ${run.checker.reason}`)
  for (const l of lost) {
    failures.push(`lost write: ${l.key} <- ${JSON.stringify(l.lost.value)} (process ${l.lost.client}, acknowledged at ${(l.lost.completedAt! / 1e9).toFixed(3)}s) is missing: the final read returned ${JSON.stringify(l.finalValue)}`)
  }
  const twoLeaders = termsWithTwoLeaders(run.leaders ?? [])
  for (const t of twoLeaders) {
    failures.push(`two leaders in term ${t.term} (Election Safety, §5.2): ${t.leaders.map((l) => `r${l.replica} (first seen ${(l.atMs / 1000).toFixed(1)}s)`).join(' and ')}`)
  }
  for (const f of run.finals) if (f.value === undefined) failures.push(`final read of ${f.key}: no replica answered before the deadline`)
  for (const e of run.unexpectedExits) failures.push(`replica ${e.replica} exited by itself at ${(e.at / 1000).toFixed(1)}s (code ${e.code}, signal ${e.signal})`)
  if (recovery.worstMs === undefined) {
    const unserved = [...recovery.perClient.entries()].filter(([, w]) => w === undefined).map(([c]) => c)
    failures.push(`after the faults healed at ${(run.healedAtMs / 1000).toFixed(1)}s, clients ${unserved.join(', ')} were never served again`)
  } else if (recovery.worstMs > run.recoveryBoundMs) {
    failures.push(`after the faults healed, a client waited ${(recovery.worstMs / 1000).toFixed(1)}s to be served, beyond the bound of ${run.recoveryBoundMs / 1000}s`)
  }

  const lines: string[] = []
  lines.push(`operations by outcome (seed ${run.seed}):`)
  lines.push(`  ${'f'.padEnd(10)} ${'ok'.padStart(6)} ${'fail'.padStart(6)} ${'info'.padStart(6)}`)
  for (const f of ['read', 'write', 'cas', 'aimed read', 'aimed write'] as const) {
    const c = counts[f]
    if (f.startsWith('aimed') && c.ok + c.fail + c.info === 0) continue
    lines.push(`  ${f.padEnd(10)} ${pad(c.ok, 6)} ${pad(c.fail, 6)} ${pad(c.info, 6)}`)
  }
  lines.push(`faults applied: ${run.faults.length}`)
  for (const f of run.faults) {
    const healed = f.healedAt === undefined ? 'never healed' : `healed ${(f.healedAt / 1000).toFixed(1)}s`
    lines.push(`  #${String(f.id).padEnd(3)} ${(f.startedAt / 1000).toFixed(1).padStart(6)}s  ${f.description}${f.target === undefined ? '' : ` [r${f.target}]`}  (${healed})${f.note === undefined ? '' : `  ${f.note}`}`)
  }
  lines.push('availability (per second: operations completed ok and failed, operations invoked whose outcome stayed unknown; faults in force):')
  for (const row of availability(ops, run.faults, run.durationMs)) {
    const bar = '#'.repeat(Math.min(40, Math.ceil(row.ok / 5)))
    lines.push(`  ${pad(row.second, 4)}s ok ${pad(row.ok, 4)} fail ${pad(row.fail, 3)} info ${pad(row.info, 3)}  ${bar.padEnd(40)} ${row.faults.map((id) => `#${id}`).join(' ')}`)
  }
  lines.push(
    `recovery: every fault healed by ${(run.healedAtMs / 1000).toFixed(1)}s; every client must be served again within ${run.recoveryBoundMs / 1000}s: ` +
      (recovery.worstMs === undefined ? 'some were not' : `the slowest waited ${(recovery.worstMs / 1000).toFixed(2)}s`),
  )
  lines.push(`final reads: ${run.finals.map((f) => `${f.key}=${f.value === undefined ? '(no answer)' : JSON.stringify(f.value)}`).join(' ')}`)
  if (run.leaders !== undefined) {
    const terms = new Set(run.leaders.map((l) => l.term)).size
    lines.push(`leaders: ${terms} terms with a leader seen in the replicas' status; ${twoLeaders.length === 0 ? 'never two in one term' : `TWO IN ONE TERM: ${twoLeaders.map((t) => `term ${t.term}: ${t.leaders.map((l) => `r${l.replica}`).join(', ')}`).join('; ')}`}`)
  }
  lines.push(`linearizability: ${run.checker.ok ? 'ok' : `${(run.checker.verdict ?? 'not linearizable').toUpperCase()} on ${run.checker.key}: ${run.checker.reason}`}`)
  if (run.checker.window !== undefined) {
    const w = run.checker.window
    lines.push(`smallest failing window: ${(w.fromMs / 1000).toFixed(3)}s to ${(w.toMs / 1000).toFixed(3)}s, ${w.operations.length} operations, not linearizable from any value the operations before it can have left:`)
    for (const op of w.operations) lines.push(`  ${op}`)
  }
  lines.push(failures.length === 0 ? 'PASS' : `FAIL:\n${failures.map((f) => `  - ${f}`).join('\n')}`)
  return { passed: failures.length === 0, failures, text: lines.join('\n') }
}
