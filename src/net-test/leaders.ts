/**
 * Election Safety seen from outside (§5.2: "at most one leader can be elected in a given term"):
 * each replica's /v1/status is polled while the clients run, and every replica that said it led
 * in some term is remembered with when it was first seen saying so. Two replicas that lead in one
 * term are a violation whether or not the clients' history shows it (a Jepsen test's check of a
 * leader's term, beside the linearizability of the history).
 */

export interface LeaderSighting {
  readonly term: number
  /** 1-based replica index. */
  readonly replica: number
  /** Milliseconds from the run's start, when the poll that first saw it was sent. */
  readonly atMs: number
}

/** A replica's role and term as its status said, from `atMs` on (each change once; the timeline's lanes). */
export interface RoleSighting {
  readonly replica: number
  readonly atMs: number
  readonly role: string
  readonly term: number
}

/** The role recorded for a replica whose status did not answer. */
export const UNREACHABLE = 'unreachable'

export class LeaderWatch {
  private readonly seen = new Map<string, LeaderSighting>()
  private readonly roles: RoleSighting[] = []
  private readonly last = new Map<number, RoleSighting>()

  /** One status answer of replica `replica` (the JSON of /v1/status), polled at `atMs`. */
  observe(replica: number, status: unknown, atMs: number): void {
    const s = status as { role?: unknown; term?: unknown } | undefined
    if (s === undefined || s === null || typeof s.role !== 'string' || typeof s.term !== 'number') return
    const before = this.last.get(replica)
    if (before === undefined || before.role !== s.role || before.term !== s.term) {
      const change = { replica, atMs, role: s.role, term: s.term }
      this.roles.push(change)
      this.last.set(replica, change)
    }
    if (s.role !== 'leader') return
    const key = `${s.term}/${replica}`
    if (!this.seen.has(key)) this.seen.set(key, { term: s.term, replica, atMs })
  }

  /** A poll of replica `replica` sent at `atMs` got no answer (killed, paused, not yet started): its role is `unreachable` until it answers. */
  unreachable(replica: number, atMs: number): void {
    const before = this.last.get(replica)
    if (before !== undefined && before.role === UNREACHABLE) return
    const change = { replica, atMs, role: UNREACHABLE, term: before?.term ?? 0 }
    this.roles.push(change)
    this.last.set(replica, change)
  }

  sightings(): LeaderSighting[] {
    return [...this.seen.values()].sort((a, b) => a.term - b.term || a.atMs - b.atMs)
  }

  /** Every change of a replica's role or term, in the order seen. */
  roleChanges(): RoleSighting[] {
    return [...this.roles]
  }
}

export interface TwoLeaders {
  readonly term: number
  readonly leaders: readonly LeaderSighting[]
}

/** The terms in which more than one replica said it led. */
export const termsWithTwoLeaders = (sightings: readonly LeaderSighting[]): TwoLeaders[] => {
  const byTerm = new Map<number, LeaderSighting[]>()
  for (const s of sightings) byTerm.set(s.term, [...(byTerm.get(s.term) ?? []), s])
  return [...byTerm.entries()]
    .filter(([, leaders]) => new Set(leaders.map((l) => l.replica)).size > 1)
    .map(([term, leaders]) => ({ term, leaders }))
    .sort((a, b) => a.term - b.term)
}
