/**
 * Carries out a nemesis schedule on a real topology: each fault begins at its time and heals after
 * its duration. A target `leader` is whoever leads when the fault begins (asked of the replicas
 * themselves). The network's state is the union of the partitions and losses in force, rewritten
 * into every replica's packet filter at each change. What was done, to whom and when is returned
 * for the verdict.
 */
import { applyNetworkState, describeNetwork, HEALTHY, link, linksBetween, type Link, type LossyLink, type NetworkState } from './filters'
import { describeFault, type Fault, type Schedule, type ScheduledFault, type Target } from './nemesis'
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
