/**
 * The TypeScript client of the real cluster's HTTP API (docs/http-api.md), used by the `raftkv`
 * CLI and by bench:cluster.
 *
 * - Leader caching: a 307's Location is remembered, and later requests go there first.
 * - Retries with the same request ID: every write carries an X-Request-Id chosen once, so a write
 *   retried after a timeout, a lost connection or a leader change is applied at most once.
 * - Timeouts: each attempt has one, and the whole operation a deadline.
 * A 503 (no leader known) is tried again after a short backoff, at another endpoint.
 */
import * as http from 'node:http'
import { randomUUID } from 'node:crypto'

export interface ClientOptions {
  /** Client URLs of some or all replicas: `http://host:port` or `host:port`. */
  readonly endpoints: readonly string[]
  /** The most one operation may take, retries included (default 15 s). */
  readonly timeoutMs?: number
  /** The most one attempt may take (default 5 s). */
  readonly attemptTimeoutMs?: number
  /** Connections kept open per replica (default: as many as requests in flight). */
  readonly maxSockets?: number
}

export class ClientError extends Error {
  constructor(
    message: string,
    /** The HTTP status that ended the operation, if one did. */
    readonly status?: number,
  ) {
    super(message)
  }
}

export interface Response {
  readonly status: number
  readonly body: string
  readonly headers: http.IncomingHttpHeaders
}

export const DEFAULT_TIMEOUT_MS = 15_000
const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000
const FIRST_BACKOFF_MS = 25
const MAX_BACKOFF_MS = 400

/** `host:port` or a URL, as an origin (`http://host:port`). */
export const originOf = (endpoint: string): string => {
  const url = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`)
  if (url.protocol !== 'http:') throw new ClientError(`not an http endpoint: ${endpoint}`)
  return url.origin
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class RaftkvClient {
  private readonly origins: string[]
  private leader: string | undefined
  private next = 0
  private readonly agent: http.Agent
  private readonly timeoutMs: number
  private readonly attemptTimeoutMs: number

  constructor(options: ClientOptions) {
    if (options.endpoints.length === 0) throw new ClientError('no endpoints')
    this.origins = options.endpoints.map(originOf)
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? Infinity })
  }

  /** The leader's origin as last learned, if any. */
  get cachedLeader(): string | undefined {
    return this.leader
  }

  async put(key: string, value: string, requestId: string = randomUUID()): Promise<void> {
    const r = await this.request('PUT', kvPath(key), value, requestId)
    if (r.status !== 200) throw unexpected(r)
  }

  /** The key's value, or undefined when it has none. Linearizable unless `stale`. */
  async get(key: string, options: { readonly stale?: boolean } = {}): Promise<string | undefined> {
    const r = await this.request('GET', kvPath(key) + (options.stale === true ? '?stale' : ''), undefined, undefined)
    if (r.status === 404) return undefined
    if (r.status !== 200) throw unexpected(r)
    return r.body
  }

  async delete(key: string, requestId: string = randomUUID()): Promise<void> {
    const r = await this.request('DELETE', kvPath(key), undefined, requestId)
    if (r.status !== 200) throw unexpected(r)
  }

  /**
   * Compare-and-set: writes `value` only if the key's value is `expected` (undefined: only if the
   * key has none). True when it wrote, false when the comparison failed.
   */
  async cas(key: string, expected: string | undefined, value: string, requestId: string = randomUUID()): Promise<boolean> {
    const query = expected === undefined ? '?prevExist=false' : `?prev=${encodeURIComponent(expected)}`
    const r = await this.request('PUT', kvPath(key) + query, value, requestId)
    if (r.status === 412) return false
    if (r.status !== 200) throw unexpected(r)
    return true
  }

  /** One replica's status (by default the first endpoint's), as JSON. */
  async status(endpoint?: string): Promise<unknown> {
    const origin = endpoint === undefined ? this.origins[0]! : originOf(endpoint)
    const r = await this.attempt(origin, 'GET', '/v1/status', undefined, undefined, this.attemptTimeoutMs)
    if (r.status !== 200) throw unexpected(r)
    return JSON.parse(r.body) as unknown
  }

  close(): void {
    this.agent.destroy()
  }

  /**
   * Sends a request to the leader (cached, or found by following redirects), trying again on a
   * 503, a 504, a lost connection or an attempt's timeout, with the same request ID, until the
   * deadline. Any other answer is returned.
   */
  async request(method: string, path: string, body: string | undefined, requestId: string | undefined): Promise<Response> {
    const deadline = performance.now() + this.timeoutMs
    let backoff = FIRST_BACKOFF_MS
    let problem = 'no attempt made'
    let hops = 0
    for (;;) {
      const remaining = deadline - performance.now()
      if (remaining <= 0) throw new ClientError(`no answer within ${this.timeoutMs} ms (last: ${problem})`)
      const origin = this.leader ?? this.origins[this.next++ % this.origins.length]!
      let r: Response
      try {
        r = await this.attempt(origin, method, path, body, requestId, Math.min(remaining, this.attemptTimeoutMs))
      } catch (error) {
        problem = `${origin}: ${(error as Error).message}`
        if (this.leader === origin) this.leader = undefined
        await sleep(Math.min(backoff, Math.max(0, deadline - performance.now())))
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
        continue
      }
      if (r.status === 307) {
        const location = r.headers.location
        problem = `${origin} redirected`
        if (typeof location === 'string') {
          try {
            this.leader = new URL(location).origin
          } catch {
            this.leader = undefined
          }
        }
        // Two replicas each naming the other: wait for the election to settle.
        if (++hops > this.origins.length) {
          await sleep(Math.min(backoff, Math.max(0, deadline - performance.now())))
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
        }
        continue
      }
      if (r.status === 503 || r.status === 504) {
        problem = `${origin} answered ${r.status}: ${r.body}`
        if (r.status === 503 && this.leader === origin) this.leader = undefined
        await sleep(Math.min(backoff, Math.max(0, deadline - performance.now())))
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)
        continue
      }
      if (this.leader === undefined && r.status < 500) this.leader = origin
      return r
    }
  }

  private attempt(origin: string, method: string, path: string, body: string | undefined, requestId: string | undefined, timeoutMs: number): Promise<Response> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {}
      if (requestId !== undefined) headers['X-Request-Id'] = requestId
      if (body !== undefined) {
        headers['Content-Type'] = 'application/octet-stream'
        headers['Content-Length'] = Buffer.byteLength(body, 'utf8')
      }
      const req = http.request(`${origin}${path}`, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          clearTimeout(timer)
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers })
        })
        res.on('error', (error) => {
          clearTimeout(timer)
          reject(error)
        })
      })
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${Math.round(timeoutMs)} ms`)), timeoutMs)
      req.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      req.end(body)
    })
  }
}

const kvPath = (key: string): string => {
  if (key === '') throw new ClientError('the key is empty')
  return `/v1/kv/${encodeURIComponent(key)}`
}

const unexpected = (r: Response): ClientError => {
  let message = r.body
  try {
    const json = JSON.parse(r.body) as { message?: unknown }
    if (typeof json.message === 'string') message = json.message
  } catch {
    // not JSON: the body as it is
  }
  return new ClientError(`HTTP ${r.status}: ${message}`, r.status)
}
