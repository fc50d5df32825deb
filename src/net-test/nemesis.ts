/**
 * The nemesis's schedule: which faults, when, for how long, drawn from a seed alone (the same seed
 * gives the same schedule on any machine) and printed before the run so that a failing seed can be
 * replayed and read. Two tracks run side by side, so that faults combine: the network's (a
 * partition or lossy links, one at a time) and the processes' (a kill, a pause or a clock jump, one
 * at a time). Each track goes through its kinds in a seeded order, so that a run of a minute sees
 * every kind. Every fault heals before `healBy`, after which the run only watches the cluster
 * recover.
 *
 * A target may be `leader`: who leads is known only when the fault starts, and the run's log says
 * which replica it was.
 *
 * Besides the two tracks, targeted moves (as Jepsen's nemeses make them): each a short sequence of
 * kills, pauses and cuts that opens the window a known class of bug needs, with reads aimed at the
 * replica that would answer them wrongly. They run alone (no other fault overlaps one), at seeded
 * times, in a seeded order, so that a run of a minute makes each of them once:
 * - `paused-leader`: the leader stopped (SIGSTOP) for longer than the others need to elect another
 *   and write through it, but less than its own check-quorum timeout, cut off from its peers while
 *   it sleeps and for a moment after it wakes, reads aimed at it throughout. A leader that counts
 *   the answers it finds on waking as fresh (a lease that outlives the pause) answers them stale.
 * - `cut-off-leader`: the leader cut off from its peers, not from clients, reads aimed at it. A
 *   leader that answers reads without confirming it still leads answers stale ones until
 *   check-quorum deposes it.
 * - `split-election`: two followers (the candidates) cut off from each other and two (the
 *   voters) from the leader, which goes on writing with the candidates alone, so that the
 *   candidates' logs are ahead of the voters' (the candidates refuse the voters' own campaigns);
 *   then the leader killed, the candidates paused past every election timeout and woken together
 *   while the voters sleep, so that both ask for pre-votes at once; the voters woken each hearing
 *   one candidate's vote request only (one-way cuts): both candidates campaign in one term and
 *   the votes split. The candidates are paused again, their clocks stopped with them (as a paused
 *   virtual machine's), while the voters are killed and restarted, then woken to ask again. A
 *   voter that did not store its vote grants a second one: two leaders in a term (the run
 *   watches every replica's /v1/status for that).
 */
import { Rng } from '../check/rng'
import { link, linksBetween, type Link, type LossyLink } from './filters'

export type Target = number | 'leader'

export type Fault =
  /** Two sides that do not reach each other (a majority and a minority). */
  | { readonly kind: 'partition'; readonly shape: 'majority-minority'; readonly sides: readonly [readonly number[], readonly number[]] }
  /** Two sides that do not reach each other, and one replica that reaches both. */
  | { readonly kind: 'partition'; readonly shape: 'bridge'; readonly sides: readonly [readonly number[], readonly number[]]; readonly bridge: number }
  /** One replica reaches no other (`leader`: whoever leads when it starts). */
  | { readonly kind: 'partition'; readonly shape: 'isolate'; readonly target: Target }
  /** Links that lose a share of their packets. */
  | { readonly kind: 'loss'; readonly links: readonly LossyLink[] }
  /** SIGKILL, then a restart on the same data directory when the fault ends. */
  | { readonly kind: 'kill'; readonly target: Target }
  /** SIGSTOP, then SIGCONT when the fault ends (longer than the election timeout). */
  | { readonly kind: 'pause'; readonly target: Target }
  /** The replica's timers jump ahead by `jumpMs` (when the runtime allows it). */
  | { readonly kind: 'clock-jump'; readonly target: Target; readonly jumpMs: number }
  /** Targeted: the leader paused (at most `pauseMs`) and cut off from its peers until `holdMs` after it wakes; reads aimed at it. */
  | { readonly kind: 'paused-leader'; readonly pauseMs: number; readonly holdMs: number }
  /** Targeted: the leader cut off from its peers (not from clients); reads aimed at it. */
  | { readonly kind: 'cut-off-leader' }
  /**
   * Targeted: of the followers (by number) in this seeded order, the first two campaign together
   * in one term once the leader is killed, and the last two vote, are killed and restarted
   * mid-election.
   */
  | { readonly kind: 'split-election'; readonly order: readonly number[] }

export interface ScheduledFault {
  readonly id: number
  /** Milliseconds from the run's start. */
  readonly at: number
  readonly durationMs: number
  readonly fault: Fault
}

export interface NemesisOptions {
  readonly seed: number
  readonly replicas: number
  /** The whole run, recovery included. */
  readonly durationMs: number
  /** Faults start no earlier (the cluster elects its first leader meanwhile). */
  readonly warmupMs: number
  /** Every fault has healed this long before the end: the cluster must serve every client again. */
  readonly recoveryMs: number
  /** The replicas' longest election timeout: a pause lasts longer than this. */
  readonly electionTimeoutMaxMs: number
  /** Whether the runtime lets a replica's clock be jumped. */
  readonly clockJumps: boolean
  /** Whether to make the targeted moves (default: yes; they need exactly five replicas). */
  readonly targeted?: boolean
}

export interface Schedule {
  readonly options: NemesisOptions
  readonly faults: readonly ScheduledFault[]
  /** Every fault has ended by then (ms from the start). */
  readonly healBy: number
}

const NETWORK_KINDS = ['majority-minority', 'bridge', 'isolate', 'loss'] as const
const PROCESS_KINDS = ['kill', 'kill-leader', 'pause', 'pause-leader', 'clock-jump'] as const
const TARGETED_KINDS = ['paused-leader', 'cut-off-leader', 'split-election'] as const

/** Whether a fault is one of the targeted moves (which run alone). */
export const isTargetedFault = (fault: Fault): boolean => fault.kind === 'paused-leader' || fault.kind === 'cut-off-leader' || fault.kind === 'split-election'

/** Reads are aimed at the target this long before a targeted move acts, and after it ends. */
export const AIM_LEAD_MS = 300
export const AIM_TAIL_MS = 1_000

/**
 * The steps of a split election (ms): the leader writes with the candidates alone; what it sent
 * last reaches them after its kill; the candidates sleep past their election timers; they
 * campaign (until all four are seen in the next term, at most `campaign`, less than the shortest
 * election timeout, 60% of the longest in `raftkv serve`); the voters restart
 * while the candidates sleep again, their clocks stopped with them (where the runtime lets a
 * clock be moved): they wake when the voters answer, at the latest after `voters`; the run
 * watches for two leaders.
 */
export const splitElectionSteps = (electionTimeoutMaxMs: number) => {
  const ahead = 1_500
  const settle = 150
  const asleep = electionTimeoutMaxMs + 500
  const campaign = Math.round(electionTimeoutMaxMs * 0.48)
  const voters = electionTimeoutMaxMs * 2
  const watch = 2_500
  return { ahead, settle, asleep, campaign, voters, watch }
}

/** Time kept free of other faults before and after a targeted move (the cluster settles). */
const TARGETED_MARGIN_MS = 1_500

/**
 * A targeted move's fault and how long it lasts in all. The paused leader sleeps until the others have
 * elected a new leader and written through it, and at most 80% to 88% of the longest election
 * timeout: longer than the minimum (60% of it in `raftkv serve`), so that the others can elect,
 * and shorter than its own check-quorum timeout (the maximum, counted from the last answer it had,
 * a little before the pause), which would depose it on waking (its timers fire before it reads
 * what waits in its sockets) before it has counted the answers it finds there.
 */
const targetedFault = (rng: Rng, kind: (typeof TARGETED_KINDS)[number], electionTimeoutMaxMs: number): { fault: Fault; durationMs: number } => {
  switch (kind) {
    case 'paused-leader': {
      const pauseMs = Math.round(electionTimeoutMaxMs * (0.8 + rng.next() * 0.08))
      const holdMs = 1_500
      return { fault: { kind, pauseMs, holdMs }, durationMs: AIM_LEAD_MS + pauseMs + holdMs + AIM_TAIL_MS }
    }
    case 'cut-off-leader':
      return { fault: { kind }, durationMs: AIM_LEAD_MS + electionTimeoutMaxMs + rng.between(1_500, 3_500) + AIM_TAIL_MS }
    case 'split-election':
      return { fault: { kind, order: shuffled(rng, [0, 1, 2, 3]) }, durationMs: splitElectionMs(electionTimeoutMaxMs) }
  }
}

const splitElectionMs = (electionTimeoutMaxMs: number): number => {
  const s = splitElectionSteps(electionTimeoutMaxMs)
  return s.ahead + s.settle + s.asleep + s.campaign + s.voters + s.watch
}

const shuffled = <T>(rng: Rng, items: readonly T[]): T[] => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.between(0, i)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const byNumber = (a: number, b: number): number => a - b

const replicaList = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

const networkFault = (rng: Rng, kind: (typeof NETWORK_KINDS)[number], n: number): Fault => {
  const order = shuffled(rng, replicaList(n))
  const minority = Math.floor((n - 1) / 2)
  switch (kind) {
    case 'majority-minority':
      return { kind: 'partition', shape: 'majority-minority', sides: [order.slice(minority).sort(byNumber), order.slice(0, minority).sort(byNumber)] }
    case 'bridge': {
      const [bridge, ...rest] = order
      const half = Math.floor(rest.length / 2)
      return { kind: 'partition', shape: 'bridge', bridge: bridge!, sides: [rest.slice(0, half).sort(byNumber), rest.slice(half).sort(byNumber)] }
    }
    case 'isolate':
      return { kind: 'partition', shape: 'isolate', target: rng.chance(0.5) ? 'leader' : order[0]! }
    case 'loss': {
      // Either every link of one replica, or a few links at random; 10% to 40% each.
      const all = linksBetween(replicaList(n), replicaList(n)).filter(([a, b]) => a < b)
      const links: Link[] = rng.chance(0.5)
        ? order.slice(1).map((other) => link(order[0]!, other))
        : shuffled(rng, all).slice(0, rng.between(1, Math.max(1, Math.min(4, all.length))))
      return { kind: 'loss', links: links.sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((l) => ({ link: l, probability: rng.between(10, 40) / 100 })) }
    }
  }
}

const processFault = (rng: Rng, kind: (typeof PROCESS_KINDS)[number], n: number, electionTimeoutMaxMs: number): Fault => {
  const target = rng.between(1, n)
  switch (kind) {
    case 'kill':
      return { kind: 'kill', target }
    case 'kill-leader':
      return { kind: 'kill', target: 'leader' }
    case 'pause':
      return { kind: 'pause', target }
    case 'pause-leader':
      return { kind: 'pause', target: 'leader' }
    case 'clock-jump':
      return { kind: 'clock-jump', target: rng.chance(0.5) ? 'leader' : target, jumpMs: electionTimeoutMaxMs * rng.between(2, 10) }
  }
}

const processDuration = (rng: Rng, fault: Fault, electionTimeoutMaxMs: number): number => {
  switch (fault.kind) {
    case 'pause':
      // A long GC pause: longer than any election timeout, so that the others elect a new leader.
      return Math.round(electionTimeoutMaxMs * (1.5 + rng.next() * 1.5))
    case 'clock-jump':
      return 0
    default:
      return rng.between(2_000, 6_000)
  }
}

/** The schedule of a seed (pure). */
export const makeSchedule = (options: NemesisOptions): Schedule => {
  if (options.replicas < 3) throw new Error('the nemesis needs at least 3 replicas')
  const healBy = options.durationMs - options.recoveryMs
  if (healBy <= options.warmupMs) throw new Error(`a run of ${options.durationMs} ms leaves no time for faults after a ${options.warmupMs} ms warm-up and before a ${options.recoveryMs} ms recovery`)
  const rng = new Rng(options.seed)
  const networkRng = new Rng(rng.seed())
  const processRng = new Rng(rng.seed())
  const targetedRng = new Rng(rng.seed())
  const faults: Array<Omit<ScheduledFault, 'id'>> = []

  // The targeted moves first, about one every 12 to 18 s; the tracks fill the time between them.
  const reserved: Array<readonly [number, number]> = []
  if (options.targeted !== false && options.replicas === 5) {
    const targetedKinds = shuffled(targetedRng, TARGETED_KINDS)
    for (let t = options.warmupMs + TARGETED_MARGIN_MS + targetedRng.between(2_000, 6_000), i = 0; ; i++) {
      const { fault, durationMs } = targetedFault(targetedRng, targetedKinds[i % targetedKinds.length]!, options.electionTimeoutMaxMs)
      if (t + durationMs > healBy) break
      faults.push({ at: t, durationMs, fault })
      reserved.push([t - TARGETED_MARGIN_MS, t + durationMs + TARGETED_MARGIN_MS])
      t += durationMs + targetedRng.between(12_000, 18_000)
    }
  }
  /** The earliest start at or after `t` for a fault of `durationMs` that overlaps no targeted move. */
  const free = (t: number, durationMs: number): number => {
    for (const [from, to] of reserved) if (t < to && t + durationMs > from) return free(to, durationMs)
    return t
  }

  const networkKinds = shuffled(networkRng, NETWORK_KINDS)
  for (let t = options.warmupMs + networkRng.between(0, 2_000), i = 0; ; i++) {
    const fault = networkFault(networkRng, networkKinds[i % networkKinds.length]!, options.replicas)
    const durationMs = networkRng.between(3_000, 8_000)
    t = free(t, durationMs)
    if (t + durationMs > healBy) break
    faults.push({ at: t, durationMs, fault })
    t += durationMs + networkRng.between(1_000, 3_000)
  }

  const processKinds = shuffled(processRng, PROCESS_KINDS.filter((k) => options.clockJumps || k !== 'clock-jump'))
  for (let t = options.warmupMs + processRng.between(1_000, 4_000), i = 0; ; i++) {
    const fault = processFault(processRng, processKinds[i % processKinds.length]!, options.replicas, options.electionTimeoutMaxMs)
    const durationMs = processDuration(processRng, fault, options.electionTimeoutMaxMs)
    t = free(t, durationMs)
    if (t + durationMs > healBy) break
    faults.push({ at: t, durationMs, fault })
    t += durationMs + processRng.between(2_000, 5_000)
  }

  faults.sort((a, b) => a.at - b.at)
  return { options, healBy, faults: faults.map((f, id) => ({ id: id + 1, ...f })) }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`

const side = (replicas: readonly number[]): string => `{${replicas.map((r) => `r${r}`).join(' ')}}`
const target = (t: Target): string => (t === 'leader' ? 'the leader' : `r${t}`)

export const describeFault = (fault: Fault): string => {
  switch (fault.kind) {
    case 'partition':
      if (fault.shape === 'majority-minority') return `partition majority/minority ${side(fault.sides[0])} | ${side(fault.sides[1])}`
      if (fault.shape === 'bridge') return `partition with a bridge ${side(fault.sides[0])} | ${side(fault.sides[1])}, r${fault.bridge} reaches both`
      return `partition: ${target(fault.target)} cut off`
    case 'loss':
      return `packet loss ${fault.links.map(({ link: [a, b], probability }) => `r${a}-r${b} ${Math.round(probability * 100)}%`).join(', ')}`
    case 'kill':
      return `SIGKILL ${target(fault.target)}, restart on its data directory`
    case 'pause':
      return `SIGSTOP ${target(fault.target)}, SIGCONT after`
    case 'clock-jump':
      return `clock of ${target(fault.target)} jumps ${fault.jumpMs} ms ahead`
    case 'paused-leader':
      return `targeted: SIGSTOP the leader until another has written (at most ${seconds(fault.pauseMs)}), cut off from its peers until ${seconds(fault.holdMs)} after SIGCONT; reads aimed at it`
    case 'cut-off-leader':
      return 'targeted: the leader cut off from its peers, not from clients; reads aimed at it'
    case 'split-election':
      return 'targeted: split election: the leader killed, two followers ahead of the others woken together to campaign in one term, the two voters killed and restarted mid-election'
  }
}

/** The schedule as a person reads it, a line a fault. */
export const formatSchedule = (schedule: Schedule): string => {
  const o = schedule.options
  const head = `nemesis schedule, seed ${o.seed}: ${schedule.faults.length} faults over ${seconds(o.durationMs)}; all healed by ${seconds(schedule.healBy)}`
  const lines = schedule.faults.map((f) => `  #${String(f.id).padEnd(3)} at ${seconds(f.at).padStart(6)} for ${seconds(f.durationMs).padStart(5)}  ${describeFault(f.fault)}`)
  const noClock = o.clockJumps ? [] : ['  (no clock jumps: the runtime offers no way to move a replica\'s clock)']
  return [head, ...lines, ...noClock].join('\n')
}

/** Whether a fault is on the network track (partitions and loss); else the process track, or a targeted move. */
export const isNetworkFault = (fault: Fault): boolean => fault.kind === 'partition' || fault.kind === 'loss'
