/**
 * A workload connection through the project's client (src/client): its leader cache, its retries
 * with one request ID, its timeouts, over one keep-alive socket per client. Its outcomes in
 * Jepsen's terms: an answer is `ok` (a failed comparison `fail`); a refusal of the request itself
 * is `fail`, since nothing was done; anything else that ends the operation without an
 * answer (its deadline, a lost connection) is `info`: the write may have been applied.
 * A refusal is a 4xx other than 408, or 501 (not implemented).
 */
import * as http from 'node:http'
import { ClientError, RaftkvClient } from '../client/client'
import type { KvConnection, Outcome } from './connection'

export interface ClientConnectionOptions {
  readonly endpoints: readonly string[]
  /** The whole operation, retries included. */
  readonly timeoutMs: number
  /** One attempt at one replica (a paused one is given up after this). */
  readonly attemptTimeoutMs: number
}

const failure = (error: unknown): Outcome<never> => {
  const message = error instanceof Error ? error.message : String(error)
  const status = error instanceof ClientError ? error.status : undefined
  const refused = status !== undefined && ((status >= 400 && status < 500 && status !== 408) || status === 501)
  return refused ? { type: 'fail', error: message } : { type: 'info', error: message }
}

export class ClientConnection implements KvConnection {
  private readonly client: RaftkvClient

  constructor(options: ClientConnectionOptions) {
    this.client = new RaftkvClient({ endpoints: options.endpoints, timeoutMs: options.timeoutMs, attemptTimeoutMs: options.attemptTimeoutMs, maxSockets: 1 })
  }

  async read(key: string): Promise<Outcome<string | null>> {
    try {
      return { type: 'ok', value: (await this.client.get(key)) ?? null }
    } catch (error) {
      return failure(error)
    }
  }

  async write(key: string, value: string): Promise<Outcome<null>> {
    try {
      await this.client.put(key, value)
      return { type: 'ok', value: null }
    } catch (error) {
      return failure(error)
    }
  }

  async cas(key: string, expected: string, value: string): Promise<Outcome<null>> {
    try {
      return (await this.client.cas(key, expected, value)) ? { type: 'ok', value: null } : { type: 'fail', error: 'the comparison failed' }
    } catch (error) {
      return failure(error)
    }
  }

  close(): void {
    this.client.close()
  }
}

/**
 * An aimed client's connection: linearizable gets and puts at one replica, over one keep-alive
 * socket, following no redirect. A get's 200 and 404 and a put's 200 are `ok`; any other answer
 * (a redirect, no leader known) is `fail`, since nothing was done; no answer within the timeout,
 * or a lost connection, is `info`.
 */
export class DirectConnection implements KvConnection {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

  constructor(
    private readonly endpoint: string,
    private readonly timeoutMs: number,
  ) {}

  read(key: string): Promise<Outcome<string | null>> {
    return this.request('GET', key, undefined).then((r) =>
      r.type !== 'ok' ? r : r.value.status === 200 ? { type: 'ok', value: r.value.body } : r.value.status === 404 ? { type: 'ok', value: null } : { type: 'fail', error: `HTTP ${r.value.status}` },
    )
  }

  write(key: string, value: string): Promise<Outcome<null>> {
    return this.request('PUT', key, value).then((r) => (r.type !== 'ok' ? r : r.value.status === 200 ? { type: 'ok', value: null } : { type: 'fail', error: `HTTP ${r.value.status}` }))
  }

  cas(): Promise<Outcome<null>> {
    return Promise.resolve({ type: 'fail', error: 'an aimed client reads and writes only' })
  }

  close(): void {
    this.agent.destroy()
  }

  private request(method: 'GET' | 'PUT', key: string, body: string | undefined): Promise<Outcome<{ status: number; body: string }>> {
    return new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { 'Content-Type': 'application/octet-stream', 'Content-Length': Buffer.byteLength(body) }
      const req = http.request(`${this.endpoint}/v1/kv/${encodeURIComponent(key)}`, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          clearTimeout(timer)
          resolve({ type: 'ok', value: { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') } })
        })
        res.on('error', (error) => {
          clearTimeout(timer)
          resolve({ type: 'info', error: error.message })
        })
      })
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
      req.on('error', (error) => {
        clearTimeout(timer)
        resolve({ type: 'info', error: error.message })
      })
      req.end(body)
    })
  }
}
