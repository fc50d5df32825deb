/**
 * Carries out a nemesis schedule on a real topology: each fault begins at its time and heals after
 * its duration. A target `leader` is whoever leads when the fault begins (asked of the replicas
 * themselves). The network's state is the union of the partitions and losses in force, rewritten
 * into every replica's packet filter at each change. What was done, to whom and when is returned
 * for the verdict.
 */
import { applyNetworkState, describeNetwork, HEALTHY, link, linksBetween, type Link, type LossyLink, type NetworkState } from './filters'
import { AIM_LEAD_MS, AIM_TAIL_MS, describeFault, isTargetedFault, splitElectionSteps, type Fault, type Schedule, type ScheduledFault, type Target } from './nemesis'
import type { ReplicaSupervisor } from './replicas'
import type { Topology } from './topology'

export interface AppliedFault {
  readonly id: number
  readonly description: string
  /** The replica a `leader` (or a numbered) target turned out to be. */
  readonly target?: number
  /** Milliseconds from the run's start. */
  readonly startedAt: number
  healedAt?: number
  /** Set when the fault could not be applied as scheduled (say, no leader was known). */
  readonly note?: string
}

export interface NemesisHooks {
  /** The replica that leads now, if any is known. */
  readonly findLeader: () => Promise<number | undefined>
  /** Moves a replica's clock ahead; undefined when the runtime allows no such thing. */
  readonly jumpClock?: (replica: number, jumpMs: number) => void
  /** Aims the clients' aimed readers at a replica (undefined: they stop); resolves once they are told. */
  readonly aimReads?: (replica: number | undefined) => Promise<void>
  /** How many aimed writes (through whichever other replica leads) have been acknowledged so far. */
  readonly aimedWritesOk?: () => Promise<number>
  /** The term and role of each of these replicas that answers (its /v1/status). */
  readonly terms?: (replicas: readonly number[]) => Promise<ReadonlyMap<number, { readonly term: number; readonly role: string }>>
  readonly log: (line: string) => void
  /** Milliseconds since the run started. */
  readonly now: () => number
}

interface Active {
  readonly scheduled: ScheduledFault
  readonly applied: AppliedFault
  readonly cut: readonly Link[]
  readonly lossy: readonly LossyLink[]
}

const sleepUntil = (now: () => number, at: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const wait = at - now()
    if (wait <= 0 || signal.aborted) return resolve()
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, wait)
    signal.addEventListener('abort', onAbort, { once: true })
  })

export class NemesisRunner {
  private readonly active = new Map<number, Active>()
  readonly applied: AppliedFault[] = []
  private network: NetworkState = HEALTHY

  constructor(
    private readonly schedule: Schedule,
    private readonly topology: Topology,
    private readonly replicas: ReplicaSupervisor,
    private readonly hooks: NemesisHooks,
  ) {}

  /** Runs the schedule to its end (or until `signal`), then heals whatever is still in force. */
  async run(signal: AbortSignal): Promise<void> {
    const events = this.schedule.faults
      .flatMap((f) => [
        { at: f.at, order: 1, fault: f, begin: true },
        { at: f.at + f.durationMs, order: 0, fault: f, begin: false },
      ])
      .sort((a, b) => a.at - b.at || a.order - b.order || a.fault.id - b.fault.id)
    for (const event of events) {
      await sleepUntil(this.hooks.now, event.at, signal)
      if (signal.aborted) break
      if (event.begin) await this.begin(event.fault)
      else await this.heal(event.fault.id)
    }
    await this.healAll()
  }

  /** Heals every fault in force (the end of the schedule, or an interrupted run). */
  async healAll(): Promise<void> {
    for (const id of [...this.active.keys()]) await this.heal(id)
    await this.setNetwork(HEALTHY)
  }

  private async resolve(target: Target): Promise<{ replica: number; note?: string }> {
    if (target !== 'leader') return { replica: target }
    const leader = await this.hooks.findLeader()
    if (leader !== undefined) return { replica: leader }
    // No leader is known (an election is under way): the fault falls on r1, and the log says so.
    return { replica: 1, note: 'no leader was known; r1 instead' }
  }

  private async begin(scheduled: ScheduledFault): Promise<void> {
    const fault: Fault = scheduled.fault
    if (isTargetedFault(fault)) return this.targeted(scheduled)
    let cut: Link[] = []
    let lossy: LossyLink[] = []
    let target: number | undefined
    let note: string | undefined
    const all = this.topology.replicas.map((r) => r.index)
    switch (fault.kind) {
      case 'partition': {
        if (fault.shape === 'isolate') {
          const resolved = await this.resolve(fault.target)
          target = resolved.replica
          note = resolved.note
          cut = linksBetween([target], all)
        } else {
          cut = linksBetween(fault.sides[0], fault.sides[1])
        }
        break
      }
      case 'loss':
        lossy = [...fault.links]
        break
      case 'kill': {
        const resolved = await this.resolve(fault.target)
        target = resolved.replica
        note = resolved.note
        await this.replicas.kill(target)
        break
      }
      case 'pause': {
        const resolved = await this.resolve(fault.target)
        target = resolved.replica
        note = resolved.note
        this.replicas.pause(target)
        break
      }
      case 'clock-jump': {
        const resolved = await this.resolve(fault.target)
        target = resolved.replica
        note = resolved.note
        if (this.hooks.jumpClock === undefined) note = 'the runtime offers no clock to jump; skipped'
        else this.hooks.jumpClock(target, fault.jumpMs)
        break
      }
    }
    if (cut.length > 0 || lossy.length > 0) await this.setNetwork(this.combined([...this.active.values(), { cut, lossy }]))
    const startedAt = this.hooks.now()
    const applied: AppliedFault = {
      id: scheduled.id,
      description: describeFault(fault),
      startedAt,
      ...(target === undefined ? {} : { target }),
      ...(note === undefined ? {} : { note }),
    }
    this.applied.push(applied)
    // A clock jump is over once made; every other fault stays in force until it heals.
    if (fault.kind === 'clock-jump') applied.healedAt = startedAt
    else this.active.set(scheduled.id, { scheduled, applied, cut, lossy })
    const who = target === undefined ? '' : ` [r${target}]`
    this.hooks.log(`${(startedAt / 1000).toFixed(1).padStart(6)}s  begin #${scheduled.id}: ${applied.description}${who}${note === undefined ? '' : ` (${note})`}`)
  }

  private async heal(id: number): Promise<void> {
    const active = this.active.get(id)
    if (active === undefined) return
    this.active.delete(id)
    const fault = active.scheduled.fault
    const target = active.applied.target
    if (fault.kind === 'kill' && target !== undefined) this.replicas.restart(target)
    if (fault.kind === 'pause' && target !== undefined) this.replicas.resume(target)
    if (active.cut.length > 0 || active.lossy.length > 0) await this.setNetwork(this.combined([...this.active.values()]))
    active.applied.healedAt = this.hooks.now()
    if (fault.kind !== 'clock-jump') this.hooks.log(`${(active.applied.healedAt / 1000).toFixed(1).padStart(6)}s  heal  #${id}`)
  }

  /**
   * A targeted move, carried out whole (no other fault overlaps it): its steps at their times, each
   * logged, and everything it did undone before it returns.
   */
  private async targeted(scheduled: ScheduledFault): Promise<void> {
    const fault = scheduled.fault
    const t0 = this.hooks.now()
    const at = (): string => `${(this.hooks.now() / 1000).toFixed(1).padStart(6)}s`
    const step = (what: string): void => this.hooks.log(`${at()}    #${scheduled.id}: ${what}`)
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
    const all = this.topology.replicas.map((r) => r.index)
    const leader = await this.hooks.findLeader()
    const applied: AppliedFault = {
      id: scheduled.id,
      description: describeFault(fault),
      startedAt: t0,
      ...(leader === undefined ? { note: 'no leader was known; the move was skipped' } : { target: leader }),
    }
    this.applied.push(applied)
    this.hooks.log(`${at()}  begin #${scheduled.id}: ${applied.description}${leader === undefined ? ' (no leader was known; skipped)' : ` [r${leader}]`}`)
    if (leader === undefined) {
      applied.healedAt = this.hooks.now()
      return
    }
    const cut = async (links: readonly Link[], oneWay: readonly (readonly [number, number])[] = []): Promise<void> =>
      this.setNetwork({ ...this.combined([...this.active.values(), { cut: links, lossy: [] }]), oneWay })
    const uncut = async (): Promise<void> => this.setNetwork(this.combined([...this.active.values()]))
    const aim = async (replica: number | undefined): Promise<void> => {
      await this.hooks.aimReads?.(replica)
      step(replica === undefined ? 'reads no longer aimed' : `reads aimed at r${replica}`)
    }
    try {
      switch (fault.kind) {
        case 'paused-leader': {
          await aim(leader)
          await sleep(AIM_LEAD_MS)
          this.replicas.pause(leader)
          const pausedAt = this.hooks.now()
          step(`SIGSTOP r${leader}`)
          // The answers to its last AppendEntries reach its sockets first; then it is cut off.
          await sleep(150)
          const writesBefore = (await this.hooks.aimedWritesOk?.()) ?? 0
          await cut(linksBetween([leader], all))
          // It wakes once the new leader has acknowledged a write (what it then reads is stale), or at the latest after pauseMs.
          let written = false
          while (this.hooks.now() - pausedAt < fault.pauseMs && !written) {
            await sleep(Math.min(50, fault.pauseMs - (this.hooks.now() - pausedAt)))
            written = ((await this.hooks.aimedWritesOk?.()) ?? 0) > writesBefore
          }
          this.replicas.resume(leader)
          step(`SIGCONT r${leader} (asleep ${((this.hooks.now() - pausedAt) / 1000).toFixed(2)}s${written ? ', once another leader had acknowledged a write' : ''})`)
          await sleep(fault.holdMs)
          await uncut()
          await sleep(AIM_TAIL_MS)
          break
        }
        case 'cut-off-leader': {
          await aim(leader)
          await sleep(AIM_LEAD_MS)
          await cut(linksBetween([leader], all))
          await sleep(scheduled.durationMs - AIM_LEAD_MS - AIM_TAIL_MS - (this.hooks.now() - t0))
          await uncut()
          await sleep(AIM_TAIL_MS)
          break
        }
        case 'split-election': {
          const steps = splitElectionSteps(this.schedule.options.electionTimeoutMaxMs)
          const others = all.filter((r) => r !== leader)
          const [c1, c2, v1, v2] = fault.order.map((i) => others[i]!) as [number, number, number, number]
          const terms = async (rs: readonly number[]): Promise<ReadonlyMap<number, { readonly term: number; readonly role: string }>> => (await this.hooks.terms?.(rs)) ?? new Map()
          await cut([link(leader, v1), link(leader, v2), link(c1, c2)])
          step(`r${c1} and r${c2} will campaign, r${v1} and r${v2} vote: r${leader} goes on with r${c1} and r${c2} alone`)
          await sleep(steps.ahead)
          await this.replicas.kill(leader)
          step(`SIGKILL r${leader}`)
          // What the leader sent last reaches both candidates: their logs end alike.
          await sleep(steps.settle)
          const before = (await terms([c1])).get(c1)?.term
          this.replicas.pause(c1)
          this.replicas.pause(c2)
          step(`SIGSTOP r${c1} r${c2}`)
          await sleep(steps.asleep)
          // The candidates ask the sleeping voters for their pre-votes...
          this.replicas.pause(v1)
          this.replicas.pause(v2)
          this.replicas.resume(c1)
          this.replicas.resume(c2)
          step(`SIGSTOP r${v1} r${v2}; SIGCONT r${c1} r${c2}: both ask for pre-votes`)
          await sleep(steps.settle)
          // ... and each voter, woken, hears the vote request of one candidate only.
          await cut([link(c1, c2)], [[c1, v2], [c2, v1]])
          this.replicas.resume(v1)
          this.replicas.resume(v2)
          const woken = this.hooks.now()
          step(`SIGCONT r${v1} r${v2}: r${v1} hears r${c1} only, r${v2} r${c2} only`)
          const next = before === undefined ? undefined : before + 1
          const asked = async (): Promise<boolean> => {
            if (next === undefined) return false
            const seen = await terms([c1, c2, v1, v2])
            return [c1, c2, v1, v2].every((r) => (seen.get(r)?.term ?? 0) >= next)
          }
          let campaigned = false
          while (this.hooks.now() - woken < steps.campaign && !(campaigned = await asked())) await sleep(20)
          this.replicas.pause(c1)
          this.replicas.pause(c2)
          const asleepAgain = this.hooks.now()
          await Promise.all([this.replicas.kill(v1), this.replicas.kill(v2)])
          this.replicas.restart(v1)
          this.replicas.restart(v2)
          step(`SIGSTOP r${c1} r${c2} ${campaigned ? `once all four were in term ${next}` : `(not seen in term ${next ?? '?'} within ${steps.campaign} ms)`}; SIGKILL r${v1} r${v2} and restart them on their data directories`)
          // Until both voters answer again. The candidates' clocks stop while they sleep (as a paused
          // virtual machine's would), so that they are still candidates, their election timers not
          // run out, however long a loaded machine takes to restart the voters.
          let restarted = false
          while (this.hooks.now() - asleepAgain < steps.voters && !(restarted = (await terms([v1, v2])).size === 2)) await sleep(50)
          // Each candidate asks again the voter that did not vote for it; what it sends the voter
          // that did (its first AppendEntries, should it win) is held back, so that it cannot
          // reach that voter before the other candidate's request does.
          await cut([link(c1, c2)], [[c1, v1], [c2, v2]])
          const slept = this.hooks.now() - asleepAgain
          const frozen = this.hooks.jumpClock !== undefined
          if (frozen) for (const c of [c1, c2]) this.hooks.jumpClock!(c, -Math.round(slept))
          this.replicas.resume(c1)
          this.replicas.resume(c2)
          step(`SIGCONT r${c1} r${c2}: they ask again, r${c1} r${v2} only, r${c2} r${v1} only (asleep ${(slept / 1000).toFixed(2)}s${frozen ? ', their clocks set back as much' : ''}${restarted ? ', the voters up' : ', the voters not yet seen up'})`)
          await sleep(steps.watch)
          await uncut()
          this.replicas.restart(leader)
          step(`r${leader} restarted`)
          break
        }
        default:
          break
      }
    } finally {
      // Whatever ended the move early, nothing it did outlives it.
      for (const r of all) this.replicas.ensureRunning(r)
      await uncut()
      if (fault.kind !== 'split-election') await aim(undefined)
      applied.healedAt = this.hooks.now()
      this.hooks.log(`${at()}  heal  #${scheduled.id}`)
    }
  }

  /** The network's state with these faults in force: every cut, and the losses on links not cut. */
  private combined(faults: ReadonlyArray<Pick<Active, 'cut' | 'lossy'>>): NetworkState {
    const cut = new Map<string, Link>()
    const lossy = new Map<string, LossyLink>()
    for (const a of faults) {
      for (const l of a.cut) cut.set(l.join('-'), link(l[0], l[1]))
      for (const l of a.lossy) lossy.set(l.link.join('-'), l)
    }
    return { cut: [...cut.values()], lossy: [...lossy.values()].filter((l) => !cut.has(l.link.join('-'))) }
  }

  private async setNetwork(state: NetworkState): Promise<void> {
    if (describeNetwork(state) === describeNetwork(this.network)) return
    await applyNetworkState(this.topology, state)
    this.network = state
    this.hooks.log(`${(this.hooks.now() / 1000).toFixed(1).padStart(6)}s  network: ${describeNetwork(state)}`)
  }

  /** What the network does now (for the availability timeline). */
  networkNow(): NetworkState {
    return this.network
  }
}
