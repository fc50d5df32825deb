/**
 * The 8 simulated clients: workload generation, leader memory, reply checks and retries.
 * Pure: time comes in as an argument, randomness from a seeded generator, output as messages.
 *
 * Two workloads (check/workload.ts says the same of check:sim's): `own`, the course simulator's,
 * where each client reads only keys it wrote and a get must return the latest put ok this client
 * received; and `shared`, Jepsen lin-kv's, where every client reads and writes the same three keys
 * with a value never written before, and only the linearizability checker (scoring.ts) judges reads.
 */
import { createHash } from 'crypto'
import type { KvOperation } from '../history/operation'
import { BROADCAST } from './datagram'
import { Prng } from './prng'
import type { Workload } from '../check/workload'

/** How many keys the shared workload's clients share. */
const SHARED_KEYS = 3

export type RequestKind = 'get' | 'put'

/** A request on its way to a replica. */
export interface ClientRequest {
  to: string
  message: { src: string; dst: string; leader: string; type: RequestKind; MID: string; key: string; value?: string }
}

/** One attempt (one MID) of a logical operation. */
interface Attempt {
  mid: string
  operation: KvOperation
  sentAt: number
}

/** A get answered with a value other than the one of the latest put ok its client received for the key. */
export interface StaleGet {
  readonly client: string
  readonly key: string
  readonly value: string | undefined
}

export type ReplyOutcome =
  | { kind: 'incorrect'; reason: string; staleGet?: StaleGet }
  | { kind: 'duplicate' }
  | { kind: 'ok' }
  | { kind: 'retry'; because: 'redirect' | 'fail'; request: ClientRequest | null }

export interface ClientCounters {
  generatedGets: number
  generatedPuts: number
  /** Gets that found no acknowledged key and became puts (still counted as generated gets). */
  failedToGenerate: number
  redirects: number
  failedGets: number
  failedPuts: number
  duplicates: number
  okGets: number
  okPuts: number
}

/** Where requests may go: the replicas that are alive. */
export interface LivingReplicas {
  living(): readonly string[]
}

export function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

class Client {
  leader = BROADCAST
  /** Values of this client's keys, as of the latest put ok received for each. */
  readonly values = new Map<string, string>()
  readonly outstanding = new Map<string, Attempt>()
  constructor(readonly id: string) {}
}

export class ClientPool {
  private readonly clients = new Map<string, Client>()
  private readonly completedMids = new Set<string>()
  private nextOperation = 0
  /** The shared workload's keys, drawn once. */
  private readonly sharedKeys: readonly string[]
  private writes = 0
  readonly history: KvOperation[] = []
  readonly latencies: number[] = []
  readonly counters: ClientCounters = {
    generatedGets: 0, generatedPuts: 0, failedToGenerate: 0, redirects: 0,
    failedGets: 0, failedPuts: 0, duplicates: 0, okGets: 0, okPuts: 0,
  }

  constructor(
    clientIds: readonly string[],
    private readonly mix: number,
    private readonly random: Prng,
    private readonly replicas: LivingReplicas,
    private readonly workload: Workload = 'own',
  ) {
    for (const id of clientIds) this.clients.set(id, new Client(id))
    this.sharedKeys = workload === 'shared' ? Array.from({ length: SHARED_KEYS }, () => random.string(32)) : []
  }

  isClient(id: string): boolean {
    return this.clients.has(id)
  }

  /** A new scheduled request from a random client; null when no replica lives. */
  newRequest(now: number): ClientRequest | null {
    const client = this.random.pick([...this.clients.values()])
    const operation = this.generateOperation(client, now)
    const request = this.send(client, operation, now)
    if (request) this.history.push(operation)
    return request
  }

  private generateOperation(client: Client, now: number): KvOperation {
    if (this.workload === 'shared') return this.sharedOperation(client, now)
    let kind: RequestKind = this.random.chance(this.mix) ? 'get' : 'put'
    if (kind === 'get') {
      this.counters.generatedGets++
      if (client.values.size === 0) {
        this.counters.failedToGenerate++
        kind = 'put'
      }
    }
    const id = `op${this.nextOperation++}`
    if (kind === 'get') {
      const key = this.random.pick([...client.values.keys()])
      return { id, client: client.id, key, kind, value: undefined, invokedAt: now, completedAt: undefined }
    }
    this.counters.generatedPuts++
    const fresh = client.values.size === 0 || this.random.chance(0.5)
    const key = fresh ? this.random.string(32) : this.random.pick([...client.values.keys()])
    const value = fresh ? md5(key) : md5(client.values.get(key)!)
    return { id, client: client.id, key, kind, value, invokedAt: now, completedAt: undefined }
  }

  /** A get or a put of one of the shared keys; each put's value is new (md5 of the key and a counter). */
  private sharedOperation(client: Client, now: number): KvOperation {
    const id = `op${this.nextOperation++}`
    const key = this.random.pick(this.sharedKeys)
    if (this.random.chance(this.mix)) {
      this.counters.generatedGets++
      return { id, client: client.id, key, kind: 'get', value: undefined, invokedAt: now, completedAt: undefined }
    }
    this.counters.generatedPuts++
    return { id, client: client.id, key, kind: 'put', value: md5(`${key}:${this.writes++}`), invokedAt: now, completedAt: undefined }
  }

  /** A new attempt with a new MID, to the remembered leader or else a random living replica. */
  private send(client: Client, operation: KvOperation, now: number): ClientRequest | null {
    const living = this.replicas.living()
    if (!living.includes(client.leader)) {
      if (living.length === 0) return null
      client.leader = BROADCAST
    }
    const to = client.leader === BROADCAST ? this.random.pick(living) : client.leader
    const mid = this.random.string(16)
    client.outstanding.set(mid, { mid, operation, sentAt: now })
    const message: ClientRequest['message'] = {
      src: client.id, dst: to, leader: client.leader, type: operation.kind, MID: mid, key: operation.key,
    }
    if (operation.kind === 'put') message.value = operation.value
    return { to, message }
  }

  /** Protocol's reply checks, in order, for a reply routed to `clientId`. */
  handleReply(clientId: string, reply: Record<string, unknown>, now: number): ReplyOutcome {
    const client = this.clients.get(clientId)
    if (!client) return { kind: 'incorrect', reason: `no such client ${clientId}` }
    const mid = reply['MID']
    const type = reply['type']
    if (typeof mid !== 'string') return { kind: 'incorrect', reason: 'reply without a MID' }
    if (type !== 'ok' && type !== 'redirect' && type !== 'fail') {
      return { kind: 'incorrect', reason: `reply of unknown type ${JSON.stringify(type)}` }
    }
    if (this.completedMids.has(mid)) {
      this.counters.duplicates++
      return { kind: 'duplicate' }
    }
    const attempt = client.outstanding.get(mid)
    if (!attempt) return { kind: 'incorrect', reason: `${type} for MID ${mid} not outstanding for client ${clientId}` }
    client.outstanding.delete(mid)
    client.leader = typeof reply['leader'] === 'string' ? reply['leader'] : BROADCAST
    this.latencies.push(now - attempt.sentAt)
    const operation = attempt.operation

    if (type === 'redirect' || type === 'fail') {
      if (type === 'redirect') this.counters.redirects++
      else if (operation.kind === 'get') this.counters.failedGets++
      else this.counters.failedPuts++
      return { kind: 'retry', because: type, request: this.send(client, operation, now) }
    }

    this.completedMids.add(mid)
    operation.completedAt = now
    if (operation.kind === 'put') {
      this.counters.okPuts++
      client.values.set(operation.key, operation.value!)
      return { kind: 'ok' }
    }
    this.counters.okGets++
    const value = reply['value']
    // A key never written reads as the empty value (the clients never write one).
    operation.value = typeof value === 'string' && value !== '' ? value : undefined
    if (this.workload === 'shared') return { kind: 'ok' }
    const expected = client.values.get(operation.key)
    if (value !== expected) {
      return {
        kind: 'incorrect',
        reason: `get(${operation.key}) by ${clientId} returned ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`,
        staleGet: { client: clientId, key: operation.key, value: operation.value },
      }
    }
    return { kind: 'ok' }
  }

  /** kill_leader and part_hard make every client forget its leader. */
  forgetLeaders(): void {
    for (const client of this.clients.values()) client.leader = BROADCAST
  }

  /** Attempts still waiting for a reply, by kind. */
  unanswered(): { gets: number; puts: number } {
    let gets = 0
    let puts = 0
    for (const client of this.clients.values()) {
      for (const attempt of client.outstanding.values()) {
        if (attempt.operation.kind === 'get') gets++
        else puts++
      }
    }
    return { gets, puts }
  }

  /** Completed replies (ok, redirect, fail) so far. */
  answered(): number {
    return this.latencies.length
  }

  /** True when some client holds at least one acknowledged key. */
  someKeyAcknowledged(): boolean {
    return [...this.clients.values()].some((client) => client.values.size > 0)
  }

  acknowledgedKeys(): number {
    let total = 0
    for (const client of this.clients.values()) total += client.values.size
    return total
  }
}
