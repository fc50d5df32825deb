/**
 * kvsim's pacing model: routing at the pace of the course's simulator (the default; `--fast`
 * turns it off).
 *
 * The course's simulator is one single-threaded process sharing the machine's cores with the
 * replicas, and it routes in rounds: it waits until some replica socket is readable (at most
 * `idleMs`), reads ONE datagram from each readable socket in replica-ID order and routes it,
 * checking and delivering each copy before the next, and only then fires the client requests and
 * scenario events that have come due. So a replica that sends a burst (a leader's AppendEntries to
 * several followers, replies to several clients) has it routed one datagram per round, behind
 * everything the other replicas sent meanwhile; every datagram and every copy costs CPU time that
 * the replicas cannot use; and a request comes due only when a round ends, which on a quiet network
 * can be up to `idleMs` late.
 *
 * kvsim reads its sockets as Node does (everything that has arrived), so the Pacer keeps a queue
 * per replica socket and plays the rounds itself: one datagram from each non-empty queue, in ID
 * order, per turn of Node's event loop, with the costs burnt as real CPU time in kvsim's process
 * (a busy wait) where the course's simulator spends them. The costs are calibrated on this
 * project's machine (BENCHMARKS.md, "kvsim against the course's simulator"); they are in addition
 * to what kvsim's own routing already costs.
 */

export interface PacingCosts {
  /** CPU time per round (waiting for readable sockets, and the loop around it), in µs. */
  roundMicros: number
  /** Added to a round's cost per replica socket still open (the wait and the loop scan them all). */
  roundPerSocketMicros: number
  /** CPU time per datagram read from a replica's socket: read, decode, parse, check, route. */
  datagramMicros: number
  /** CPU time per copy delivered to a replica (the writability check and the send). */
  copyMicros: number
  /** CPU time to create a client request (a new one or a retry), before its delivery. */
  requestMicros: number
  /** The longest wait for a readable socket: due requests and events fire at the latest this late. */
  idleMs: number
  /**
   * How much a replica's socket at the simulator holds before the kernel drops what arrives (its
   * receive buffer: the course's simulator keeps the default, net.core.rmem_default), charged per
   * datagram as the kernel charges it (socket-buffers.ts, kernelCharge). A replica that sends
   * faster than the rounds drain loses datagrams there silently, clients' answers included.
   */
  socketQueueBytes: number
}

/**
 * Calibrated against the course's simulator on this project's 2-core machine (BENCHMARKS.md, "kvsim
 * against the course's simulator", 2026-11-25): with the project's replica kvsim's medians came
 * within 25% of the course simulator's (reading about 15% high); floor-replica's they do not predict
 * (1.6 times). Most of the effect is the rounds and the request timing; these costs add the rest.
 * Checked again on 2026-12-03, once kvsim sent each copy at once ("Sending each copy at once"):
 * means within 25% on six scenarios, and halving or zeroing the costs made no difference that two
 * runs could show.
 */
export const COURSE_PACING: Readonly<PacingCosts> = {
  roundMicros: 5,
  roundPerSocketMicros: 0.25,
  datagramMicros: 8,
  copyMicros: 4,
  requestMicros: 5,
  idleMs: 100,
  socketQueueBytes: 212_992,
}

/**
 * Spends `micros` of this process's CPU time: a busy wait, so that it competes for the cores. It
 * counts CPU time, not wall time, so that on a busy machine it stretches as the course's simulator's
 * own work does when the replicas (or anything else) take its core.
 */
export function spin(micros: number): void {
  if (micros <= 0) return
  const start = process.cpuUsage()
  const wallLimit = performance.now() + (micros / 1000) * 50 // never more than 50 times as long
  for (;;) {
    const used = process.cpuUsage(start)
    if (used.user + used.system >= micros || performance.now() > wallLimit) return
  }
}

/** How the Pacer schedules its work; the runner passes Node's, tests a manual one. */
export interface PacerScheduler {
  /** Run `fn` after Node has read whatever the sockets hold (setImmediate). */
  soon(fn: () => void): void
  /** Run `fn` after `ms` unless cancelled (setTimeout); returns the cancel function. */
  after(ms: number, fn: () => void): () => void
}

export interface PacerHooks<T> {
  /** Route one datagram read from `socket` (the costs are the Pacer's business). */
  route(socket: string, item: T): void
  /** Fire every client request and scenario event that is due by now. */
  fireDue(): void
}

export const nodeScheduler: PacerScheduler = {
  soon: (fn) => {
    setImmediate(fn)
  },
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms)
    return () => clearTimeout(timer)
  },
}

export class Pacer<T> {
  private readonly queues = new Map<string, T[]>()
  /** What each socket's queue is charged, as the kernel counts it against socketQueueBytes. */
  private readonly queued = new Map<string, number>()
  private readonly open = new Set<string>()
  private roundScheduled = false
  private cancelIdle: (() => void) | undefined
  private stopped = false
  /** Rounds played so far (empty ones, after an idle wait, included). */
  rounds = 0
  /** Datagrams dropped because their socket's queue was full (socketQueueBytes). */
  overflowed = 0

  /** `sockets` in replica-ID order: the order of the reads within a round. */
  constructor(
    sockets: readonly string[],
    private readonly costs: Readonly<PacingCosts>,
    private readonly hooks: PacerHooks<T>,
    /** What one datagram is charged in its socket's queue. */
    private readonly charge: (item: T) => number,
    private readonly scheduler: PacerScheduler = nodeScheduler,
    private readonly burn: (micros: number) => void = spin,
  ) {
    for (const id of [...sockets].sort()) this.empty(id)
  }

  private empty(socket: string): void {
    this.queues.set(socket, [])
    this.queued.set(socket, 0)
    this.open.add(socket)
  }

  /** Starts the clock of idle waits (call once the replicas are started). */
  start(): void {
    this.armIdle()
  }

  /**
   * A datagram arrived on `socket`'s socket: it waits for its round, unless the queue is already
   * over its limit (Linux checks what is queued before it adds the newcomer, so one may overshoot).
   */
  receive(socket: string, item: T): void {
    if (this.stopped || !this.open.has(socket)) return
    const queued = this.queued.get(socket)!
    if (queued > this.costs.socketQueueBytes) {
      this.overflowed++
      return
    }
    this.queued.set(socket, queued + this.charge(item))
    this.queues.get(socket)!.push(item)
    this.scheduleRound()
  }

  /** The socket is closed: what waits on it is lost, as in the kernel's queue of a closed socket. */
  close(socket: string): void {
    this.empty(socket)
    this.open.delete(socket)
  }

  /** A new socket for `socket`'s replica (a restart): its datagrams wait for rounds again. */
  reopen(socket: string): void {
    this.empty(socket)
  }

  /** Datagrams waiting on `socket`'s socket. */
  waiting(socket: string): number {
    return this.queues.get(socket)?.length ?? 0
  }

  /** The cost of delivering one copy to a replica; the runner calls it before each send. */
  copy(): void {
    this.burn(this.costs.copyMicros)
  }

  /** The cost of creating one client request (a new request or a retry). */
  request(): void {
    this.burn(this.costs.requestMicros)
  }

  stop(): void {
    this.stopped = true
    this.cancelIdle?.()
    this.cancelIdle = undefined
  }

  /**
   * One round: one datagram from each socket that holds one, in ID order, then the due requests
   * and events. Public for tests; the Pacer plays rounds by itself.
   */
  round(): void {
    this.roundScheduled = false
    if (this.stopped) return
    this.cancelIdle?.()
    this.cancelIdle = undefined
    this.rounds++
    this.burn(this.costs.roundMicros + this.costs.roundPerSocketMicros * this.open.size)
    // Which sockets are readable is decided once, at the start of the round.
    const ready: string[] = []
    for (const [socket, queue] of this.queues) if (queue.length > 0) ready.push(socket)
    for (const socket of ready) {
      if (this.stopped) return
      const item = this.queues.get(socket)!.shift()
      if (item === undefined) continue // closed during this round
      this.queued.set(socket, this.queued.get(socket)! - this.charge(item))
      this.burn(this.costs.datagramMicros)
      this.hooks.route(socket, item)
    }
    if (this.stopped) return
    this.hooks.fireDue()
    if (this.stopped) return
    let more = false
    for (const queue of this.queues.values()) if (queue.length > 0) more = true
    if (more) this.scheduleRound()
    else this.armIdle()
  }

  private scheduleRound(): void {
    if (this.roundScheduled || this.stopped) return
    this.roundScheduled = true
    this.scheduler.soon(() => this.round())
  }

  /** With nothing to read, a round still ends after idleMs (a wait that timed out). */
  private armIdle(): void {
    this.cancelIdle?.()
    this.cancelIdle = this.scheduler.after(this.costs.idleMs, () => {
      this.cancelIdle = undefined
      if (!this.roundScheduled) this.round()
    })
  }
}
