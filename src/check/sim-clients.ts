/**
 * check:sim's clients as the simulation drives them: where an attempt goes, and the stream of new
 * requests (which client, get or put, which key and value, per the workload: workload.ts). What the
 * clients remember and check of the replies is virtual-clients.ts's.
 */
import type { ClientRequest, NodeId } from '../domain/wire'
import type { Clients, Route } from './virtual-clients'
import type { Rng } from './rng'
import { sharedRequest, type Workload } from './workload'

/** Client traffic is never lost, delayed by a constant: it stays in order. */
export const CLIENT_DELAY_MS = 1

/** Where an attempt goes: to the leader the client remembers if it is up, else to a random replica that is up (any, if none is). */
export const routeAmong = (rng: Rng, up: readonly NodeId[], all: readonly NodeId[], remembered: NodeId | undefined): NodeId => {
  if (remembered !== undefined && up.includes(remembered)) return remembered
  return rng.pick(up.length > 0 ? up : all)
}

export interface RequestOptions {
  readonly workload: Workload
  readonly getFraction: number
  readonly keysPerClient: number
}

/** The simulation's new requests, each from a random client: its first attempt. */
export class RequestStream {
  private keyCounter = 0
  private valueCounter = 0

  constructor(
    private readonly rng: Rng,
    private readonly options: RequestOptions,
    private readonly clients: Clients,
    private readonly clientIds: readonly NodeId[],
  ) {}

  next(now: number, route: Route): ClientRequest {
    const o = this.options
    const client = this.rng.pick(this.clientIds)
    const keys = this.clients.ackedKeys(client)
    if (o.workload === 'shared') {
      const { kind, key } = sharedRequest(this.rng, o.getFraction)
      const value = kind === 'put' ? this.nextValue() : undefined
      return this.clients.invoke(now, client, kind, key, value, route)
    }
    if (keys.length > 0 && this.rng.chance(o.getFraction)) return this.clients.invoke(now, client, 'get', this.rng.pick(keys), undefined, route)
    const fresh = keys.length === 0 || (keys.length < o.keysPerClient && this.rng.chance(0.5))
    const key = fresh ? `${client}-key-${(this.keyCounter++).toString().padStart(23, '0')}` : this.rng.pick(keys)
    return this.clients.invoke(now, client, 'put', key, this.nextValue(), route)
  }

  private nextValue(): string {
    return (this.valueCounter++).toString(16).padStart(32, '0')
  }
}
