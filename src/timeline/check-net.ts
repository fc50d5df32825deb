/**
 * A timeline of one check:net run: each replica's role and term as its /v1/status said (polled
 * every 100 ms through the run; down where it did not answer: killed, paused or starting), the
 * nemesis's faults and their heals as marks across the lanes, every
 * client operation of the history (an `info` drawn unanswered; a `fail`, which did nothing, left
 * out), and for a violation the smallest failing window, its operations shown as the failure.
 */
import type { Operation } from '../history/operation'
import type { RunResult } from '../net-test/run'
import { UNREACHABLE } from '../net-test/leaders'
import { AIMED_PROCESS, FINAL_READ_PROCESS } from '../net-test/workload'
import type { Band, Failure, LaneRole, TimelineData } from './model'
import { TimelineRecorder } from './recorder'

const NS_PER_MS = 1e6
const ROLES: readonly string[] = ['follower', 'preCandidate', 'candidate', 'leader']

const clientOf = (op: Operation): string => {
  const process = Number(op.client)
  if (process >= FINAL_READ_PROCESS) return 'final reads'
  if (process >= AIMED_PROCESS) return `aimed ${(process - AIMED_PROCESS) % 1000}`
  return `client ${op.client}`
}

/** A fault's start as a point across the lanes: a kill in red, the rest in grey (the page's point bands). */
const bandKind = (description: string): Band['kind'] => (/SIGKILL|killed/.test(description) ? 'kill' : 'event')

/** A short label: the fault's number and the first words of its description. */
const shortLabel = (id: number, description: string): string => {
  const words = description.replace(/^targeted: /, '').split(/[,:(]/)[0]!.trim()
  return `#${id} ${words.length > 28 ? `${words.slice(0, 27)}…` : words}`
}

/** The page's data for a run that got to its verdict. */
export const checkNetTimeline = (record: NonNullable<RunResult['record']>, replicas: number): TimelineData => {
  const ids = Array.from({ length: replicas }, (_, i) => `r${i + 1}`)
  const recorder = new TimelineRecorder(ids, 100, 'starting')
  for (const change of record.roles) {
    // A replica whose status did not answer (killed, paused, starting) is drawn down.
    const role: LaneRole = change.role === UNREACHABLE ? 'down' : ROLES.includes(change.role) ? (change.role as LaneRole) : 'starting'
    recorder.setRole(Math.max(0, change.atMs), `r${change.replica}`, role, change.role === UNREACHABLE ? null : change.term)
  }
  for (const fault of record.faults) {
    const to = fault.healedAt ?? record.durationMs
    const label = shortLabel(fault.id, fault.description)
    const detail = `#${fault.id} ${fault.description}${fault.target === undefined ? '' : ` [r${fault.target}]`}${fault.note === undefined ? '' : ` (${fault.note})`}`
    if (/SIGKILL/.test(fault.description) && fault.target !== undefined && !fault.description.startsWith('targeted')) {
      recorder.mark(fault.startedAt, `r${fault.target}`, 'killed', detail)
      recorder.mark(to, `r${fault.target}`, 'restarted', `#${fault.id}: restarted on its data directory`)
    }
    recorder.event(fault.startedAt, bandKind(fault.description), label, detail)
    if (to > fault.startedAt) recorder.event(to, 'heal', `#${fault.id} healed`, `${detail}: healed at ${(to / 1000).toFixed(1)} s`)
  }
  for (const op of [...record.operations].sort((a, b) => a.invokedAt - b.invokedAt)) {
    if (op.failed === true) continue
    const from = op.invokedAt / NS_PER_MS
    recorder.request(from, { id: op.id, client: clientOf(op), kind: op.kind, key: op.key, value: op.value }, op.id, '')
    if (op.completedAt !== undefined) recorder.reply(op.completedAt / NS_PER_MS, op.id, 'ok', op.value)
  }
  const w = record.checker.window
  const inWindow = new Set(w?.ids ?? [])
  const windowOps = record.operations.filter((op) => inWindow.has(op.id))
  // The window's reads that no value written before them explains are the offending ones: those
  // that read a value overwritten before they were invoked (a stale read) are marked.
  const offending = windowOps.filter((op) => op.kind === 'get' && windowOps.some((other) => other.kind !== 'get' && other.completedAt !== undefined && other.completedAt < op.invokedAt && other.value !== op.value && other.invokedAt > (windowOps.find((x) => x.kind !== 'get' && x.value === op.value)?.completedAt ?? -Infinity)))
  for (const op of offending) recorder.flagIncorrect(op.id)
  // The header and the offending read's label say what went wrong in a line; every failure is in the summary.
  const stale = offending[0]
  const reason =
    stale !== undefined && w !== undefined
      ? `read ${JSON.stringify(stale.value ?? null)}, a value overwritten before the read was invoked (smallest failing window ${(w.fromMs / 1000).toFixed(3)}–${(w.toMs / 1000).toFixed(3)} s)`
      : record.checker.ok
        ? record.failures[0] ?? ''
        : record.checker.reason ?? ''
  const failure: Failure | null = record.passed
    ? null
    : {
        title: record.checker.ok ? 'check:net failed' : (record.checker.verdict ?? 'not linearizable'),
        reason,
        at: w === undefined ? null : w.toMs,
        key: record.checker.ok ? null : (record.checker.key ?? null),
        operations: windowOps.map((op) => ({ id: op.id, client: clientOf(op), kind: op.kind, value: op.value ?? null, from: op.invokedAt / NS_PER_MS, to: op.completedAt === undefined ? null : op.completedAt / NS_PER_MS })),
        offending: offending.map((op) => op.id),
      }
  const counts = { ok: 0, info: 0, fail: 0 }
  for (const op of record.operations) counts[op.failed === true ? 'fail' : op.completedAt === undefined ? 'info' : 'ok'] += 1
  return recorder.build(record.durationMs, {
    title: `check:net seed ${record.seed}: ${record.passed ? 'passed' : 'FAILED'}`,
    subtitle: `${replicas} replicas of raftkv serve in network namespaces, ${record.clients} clients, ${record.faults.length} faults, all healed by ${(record.healedAtMs / 1000).toFixed(1)} s`,
    source: 'check:net',
    rolesInferred: false,
    summary: [
      `${record.operations.length} operations: ${counts.ok} ok, ${counts.info} info (drawn unanswered: they may or may not have happened), ${counts.fail} fail (refused, nothing done: not drawn)`,
      'roles and terms as each replica\'s /v1/status said, polled every 100 ms; down: it did not answer (killed, paused, starting)',
      ...(record.passed ? [] : record.failures.map((f) => `FAIL: ${f.split('\n')[0]}`)),
    ],
    failure,
  })
}
