/**
 * The imperative shell around `step`: it keeps the current state, turns datagrams and timers into
 * events, and performs the effects that come back. It decides nothing about Raft.
 */
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import type { Effect, TimerName } from '../domain/effect'
import { awaitsOwnPersist, commitsAlone, persistEffect } from '../domain/durability'
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
   * write and one sync. A batch's messages leave before that persist, but for the replies to RPCs,
   * which wait for it (domain/durability.ts, awaitsOwnPersist). With a storage that persists in the
   * background the event loop goes on meanwhile, and the events that arrive make the next batch,
   * stepped once the persist is durable (group commit). Default: each event alone, as the course's
   * simulator expects.
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
  /** Batching with a background store: a batch's persist is with the disk. */
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
      // While a batch's persist is with the disk, events wait for it: they make the next batch.
      if (this.queued.length === 0 && !this.writing) setImmediate(() => this.dispatchQueued())
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
   * the state after the last), and their other effects (carryOut says in which order).
   */
  private dispatchQueued(): void {
    if (this.stopped || this.writing) return
    const events = this.queued
    this.queued = []
    const before = this.state
    const effects: Effect[] = []
    let alone = commitsAlone(before)
    for (const event of events) {
      try {
        const [next, stepEffects] = this.step(this.state, { ...event, now: this.io.now() } as Event)
        this.state = next
        alone ||= commitsAlone(next)
        for (const effect of stepEffects) if (effect.kind !== 'persist') effects.push(effect)
      } catch (error) {
        this.io.trace?.(`step failed on a ${event.kind} event: ${String(error)}`)
      }
    }
    this.carryOut(effects, persistEffect(before.persistent, this.state.persistent), alone)
  }

  /**
   * Carries out a batch: what must not wait (timers, log lines) and its messages at once, but for
   * the replies to RPCs, which vouch for what the batch stored (domain/durability.ts,
   * awaitsOwnPersist), and every message when the replica was a majority by itself (commitsAlone):
   * those once its persist is durable. Every earlier batch's persist is durable
   * already: no batch is stepped while one is with the disk.
   */
  private carryOut(effects: readonly Effect[], persist: Effect | undefined, alone: boolean): void {
    if (persist?.kind !== 'persist') return this.performOrStop(effects)
    const now: Effect[] = []
    const late: Effect[] = []
    for (const effect of effects) (effect.kind === 'send' && (alone || awaitsOwnPersist(effect.message)) ? late : now).push(effect)
    const inBackground = this.storage.persistInBackground?.bind(this.storage)
    if (inBackground === undefined) return this.performOrStop([...now, persist, ...late])
    this.performOrStop(now)
    if (this.stopped) return
    // The messages go now, while the disk works.
    this.io.flush?.()
    this.writing = true
    inBackground(persist.hardState, persist.log, persist.snapshot, (failure) => {
      this.writing = false
      if (this.stopped) return
      if (failure !== undefined) return this.storageFailed(failure)
      this.performOrStop(late)
      if (this.queued.length > 0) this.dispatchQueued()
    })
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

