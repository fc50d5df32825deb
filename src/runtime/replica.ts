/**
 * The imperative shell around `step`: it keeps the current state, turns datagrams and timers into
 * events, and performs the effects that come back. It decides nothing about Raft.
 */
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import type { Effect, TimerName } from '../domain/effect'
import { awaitsOwnPersist, persistEffect } from '../domain/durability'
import { perform, type EffectHandlers } from '../effects/perform'
import { received, started, timerFired, type Event } from '../domain/events'
import type { ReplicaState } from '../domain/state'
import { step, type StepResult } from '../domain/step'
import { decodeMessage, encodeMessage, MAX_DATAGRAM_BYTES, type Message } from '../domain/wire'
import type { EventRecorder } from './event-recorder'
import type { StepTimings } from './step-timing'
import { MemoryStorage, StorageFailure, type Storage } from './storage'
import { NamedTimers } from './timers'

export interface ReplicaIO {
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number
  readonly send: (bytes: Buffer) => void
  readonly trace: ((line: string) => void) | undefined
  /** Where to record how long each step takes, if anywhere. */
  readonly timings?: StepTimings
  /** Where to record every event handed to the replica, if anywhere (RAFTKV_RECORD). */
  readonly recorder?: EventRecorder
  /** Where the persistent state is stored (default: in memory). */
  readonly storage?: Storage
  /**
   * Told when the storage could not make a step's writes durable; the runtime has stopped and sent
   * nothing of that step. The executable exits.
   */
  readonly onStorageFailure?: (failure: StorageFailure) => void
  /**
   * The replica's named timers, given the function to call when one fires (default: Node's clock,
   * `NamedTimers`). The start-up warm-up passes timers in virtual time.
   */
  readonly timers?: (onFire: (timer: TimerName) => void) => ReplicaTimers
  /**
   * Where a message goes, for a runtime with more than one way out (the real cluster: peers over
   * its transport, clients to its HTTP front end); default: encoded and handed to `send`.
   */
  readonly route?: (message: Message) => void
  /**
   * Events are stepped in batches (etcd's Ready): those that arrive in one event-loop turn are
   * stepped one after the other, and what they changed of the persistent state is stored in one
   * write and one sync. With a storage that persists in the background, the replica steps on while
   * the disk works: a batch's messages leave once every earlier batch's persist is durable, and
   * the replies to RPCs among them once their own batch's is too (domain/durability.ts,
   * awaitsOwnPersist); otherwise the batch's persist is made first. Default: each event alone, as
   * the course's simulator expects.
   */
  readonly batch?: boolean
  /** Hands what was sent so far to the network now (a batch's messages, before its persist). */
  readonly flush?: () => void
  /** Told after each event or batch has been stepped and its effects carried out. */
  readonly afterStep?: () => void
  /**
   * The reducer (default: the domain's `step`). Only check:net replaces it, with a known bug
   * wrapped around the real one (src/net-test/bugs.ts), to show that the test finds the bug.
   */
  readonly step?: (state: ReplicaState, event: Event) => StepResult
}

/** What the runtime needs of its timers: set (or move), cancel, and cancel all. */
export interface ReplicaTimers {
  readonly set: (timer: TimerName, afterMs: number) => void
  readonly cancel: (timer: TimerName) => void
  readonly stop: () => void
}

/** The parts of `ReplicaIO` the runtime keeps, every key present. */
type KeptIO = { readonly [K in 'now' | 'send' | 'trace' | 'timings' | 'recorder' | 'onStorageFailure' | 'route' | 'afterStep' | 'flush']: ReplicaIO[K] }

export class ReplicaRuntime {
  private state: ReplicaState
  private readonly timers: ReplicaTimers
  private stopped = false
  private readonly storage: Storage
  private readonly io: KeptIO
  private readonly step: NonNullable<ReplicaIO['step']>
  private readonly batching: boolean
  /** Batching: the events waiting for the end of this event-loop turn. */
  private queued: Event[] = []
  /**
   * Batching with a background store: in order, the effects waiting to be carried out and the
   * persists they wait for; `writing` while the first persist is with the disk.
   */
  private readonly pipeline: PipelineItem[] = []
  private writing = false

  constructor(initial: ReplicaState, io: ReplicaIO) {
    this.state = initial
    this.step = io.step ?? step
    // One shape for every runtime's `io`, whatever the caller's object holds: the code V8 compiles
    // during the warm-up then fits the live runtime, instead of being thrown away at its first event.
    this.io = {
      now: io.now,
      send: io.send,
      trace: io.trace,
      timings: io.timings,
      recorder: io.recorder,
      onStorageFailure: io.onStorageFailure,
      route: io.route,
      afterStep: io.afterStep,
      flush: io.flush,
    }
    this.batching = io.batch === true
    const onFire = (timer: TimerName): void => this.onTimer(timer)
    this.timers = io.timers === undefined ? new NamedTimers(io.now, onFire) : io.timers(onFire)
    this.storage = io.storage ?? new MemoryStorage()
  }

  start(): void {
    const now = this.io.now()
    this.io.recorder?.started(now)
    this.dispatch(started(now))
  }

  /** One datagram from the network; anything that does not decode is logged and dropped. */
  onDatagram(bytes: Buffer): void {
    const began = this.io.timings === undefined ? 0 : performance.now()
    const now = this.io.now()
    const text = bytes.toString('utf8')
    this.io.recorder?.datagram(now, text)
    const decoded = decodeMessage(text)
    if (E.isLeft(decoded)) {
      this.io.trace?.(`dropped a datagram: ${decoded.left}`)
      return
    }
    this.dispatch(received(now, decoded.right))
    this.io.timings?.recordDatagram(decoded.right.type, (performance.now() - began) * 1000)
  }

  /** A message that arrived decoded already (the real cluster's transport, its HTTP front end). */
  onMessage(message: Message): void {
    const now = this.io.now()
    this.io.recorder?.datagram(now, encodeMessage(message))
    this.dispatch(received(now, message))
  }

  /** A named timer fired. */
  onTimer(timer: TimerName): void {
    const now = this.io.now()
    this.io.recorder?.timer(now, timer)
    this.dispatch(timerFired(now, timer))
  }

  /** No more events; the storage lets go of its files. */
  stop(): void {
    this.stopped = true
    this.timers.stop()
    this.storage.close()
  }

  get current(): ReplicaState {
    return this.state
  }

  private dispatch(event: Event): void {
    if (this.stopped) return
    if (this.batching) {
      if (this.queued.length === 0) setImmediate(() => this.dispatchQueued())
      this.queued.push(event)
      return
    }
    let result: ReturnType<typeof step>
    const started = this.io.timings === undefined ? 0 : performance.now()
    try {
      result = this.step(this.state, event)
      if (this.io.timings !== undefined) this.io.timings.record(event, (performance.now() - started) * 1000)
    } catch (error) {
      // A defect in the reducer must not take the replica down: keep the state from before the event.
      this.io.trace?.(`step failed on a ${event.kind} event: ${String(error)}`)
      return
    }
    const [next, effects] = result
    this.state = next
    this.performOrStop(effects)
  }

  /**
   * Steps every queued event in turn, then hands the pipeline what they changed of the persistent
   * state, as one write (found by the domain's own rule, comparing the state before the first with
   * the state after the last), and their other effects (enqueue says in which order).
   */
  private dispatchQueued(): void {
    const events = this.queued
    this.queued = []
    if (this.stopped) return
    const before = this.state
    const effects: Effect[] = []
    for (const event of events) {
      try {
        const [next, stepEffects] = this.step(this.state, { ...event, now: this.io.now() } as Event)
        this.state = next
        for (const effect of stepEffects) if (effect.kind !== 'persist') effects.push(effect)
      } catch (error) {
        this.io.trace?.(`step failed on a ${event.kind} event: ${String(error)}`)
      }
    }
    this.enqueue(effects, persistEffect(before.persistent, this.state.persistent))
  }

  /**
   * A batch into the pipeline: what must not wait (timers, log lines) at once; then its messages,
   * once every earlier batch's persist is durable; then its persist; then the replies to RPCs,
   * which vouch for what it stored (domain/durability.ts, awaitsOwnPersist).
   */
  private enqueue(effects: readonly Effect[], persist: Effect | undefined): void {
    const local: Effect[] = []
    const early: Effect[] = []
    const late: Effect[] = []
    for (const effect of effects) {
      if (effect.kind !== 'send') local.push(effect)
      else (persist !== undefined && awaitsOwnPersist(effect.message) ? late : early).push(effect)
    }
    if (local.length > 0) this.performOrStop(local)
    if (early.length > 0) this.pipeline.push({ kind: 'effects', effects: early })
    if (persist?.kind === 'persist') this.pipeline.push({ kind: 'persist', persist })
    if (late.length > 0) this.pipeline.push({ kind: 'effects', effects: late })
    this.drain()
  }

  /** Carries out the pipeline in order, up to the first persist not yet durable. */
  private drain(): void {
    let sent = false
    while (!this.writing && !this.stopped && this.pipeline.length > 0) {
      const item = this.pipeline.shift()!
      if (item.kind === 'effects') {
        this.performOrStop(item.effects)
        sent = true
        continue
      }
      const { hardState, log, snapshot } = item.persist
      const inBackground = this.storage.persistInBackground?.bind(this.storage)
      if (inBackground === undefined) {
        this.performOrStop([item.persist])
        continue
      }
      this.writing = true
      // The messages before this persist go now, while the disk works.
      if (sent) this.io.flush?.()
      sent = false
      inBackground(hardState, log, snapshot, (failure) => {
        this.writing = false
        if (this.stopped) return
        if (failure !== undefined) return this.storageFailed(failure)
        this.drain()
      })
    }
  }

  /**
   * The persist effect comes first, so when storing fails nothing of the step has left: stop there
   * rather than answer later from a state that is not stored.
   */
  private performOrStop(effects: readonly Effect[]): void {
    try {
      perform(effects, this.handlers)
    } catch (error) {
      if (!(error instanceof StorageFailure)) throw error
      this.storageFailed(error)
      return
    }
    this.io.afterStep?.()
  }

  private storageFailed(failure: StorageFailure): void {
    this.stop()
    if (this.io.onStorageFailure === undefined) throw failure
    this.io.onStorageFailure(failure)
  }

  /** How this runtime carries out effects: the socket, Node's timers, the trace. */
  private readonly handlers: EffectHandlers = {
    persist: (hardState, log, snapshot) => this.storage.persist(hardState, log, snapshot),
    send: (message) => this.sendMessage(message),
    setTimer: (timer, afterMs) => this.timers.set(timer, afterMs),
    cancelTimer: (timer) => this.timers.cancel(timer),
    log: (text) => this.io.trace?.(text),
  }

  private sendMessage(message: Message): void {
    if (this.io.route !== undefined) {
      this.io.route(message)
      return
    }
    const bytes = Buffer.from(encodeMessage(message), 'utf8')
    if (bytes.length > MAX_DATAGRAM_BYTES) {
      this.io.trace?.(`not sent: a ${message.type} of ${bytes.length} bytes`)
      return
    }
    this.io.trace?.(`-> ${message.dst} ${message.type}`)
    this.io.send(bytes)
  }
}

type PipelineItem =
  | { readonly kind: 'effects'; readonly effects: readonly Effect[] }
  | { readonly kind: 'persist'; readonly persist: Extract<Effect, { kind: 'persist' }> }
