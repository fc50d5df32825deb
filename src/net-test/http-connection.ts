/**
 * A workload connection over raftkv's HTTP API: its own keep-alive agent with one socket (one
 * connection per client), the leader's address cached from a 307's Location, a 503 retried after
 * its Retry-After, refused connections tried at the next replica. Anything that may have reached
 * the leader and has no answer is `info`; a refusal before sending is retried until the timeout.
 */
import * as http from 'node:http'
import type { KvConnection, Outcome } from './connection'

interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** Errors raised before a request could reach any server: the operation certainly did not happen. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    }, { once: true })
  })

export class HttpConnection implements KvConnection {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  private preferred = 0
  private requests = 0

  constructor(
    /** The replicas' client URLs: `http://10.77.0.11:8080`. */
    private readonly endpoints: readonly string[],
    /** Distinguishes this client's request IDs from every other's. */
    private readonly clientId: string,
  ) {}

  async read(key: string, signal: AbortSignal): Promise<Outcome<string | null>> {
    const reply = await this.send('GET', key, undefined, signal)
    if (reply.type !== 'ok') return reply
    if (reply.value.status === 200) return { type: 'ok', value: reply.value.body }
    if (reply.value.status === 404) return { type: 'ok', value: null }
    return { type: 'fail', error: `GET answered ${reply.value.status}` }
  }

  async write(key: string, value: string, signal: AbortSignal): Promise<Outcome<null>> {
    const reply = await this.send('PUT', key, value, signal)
    if (reply.type !== 'ok') return reply
    return reply.value.status === 200 ? { type: 'ok', value: null } : { type: 'info', error: `PUT answered ${reply.value.status}` }
  }

  async cas(key: string, expected: string, value: string, signal: AbortSignal): Promise<Outcome<null>> {
    const reply = await this.send('PUT', key, value, signal, expected)
    if (reply.type !== 'ok') return reply
    if (reply.value.status === 200) return { type: 'ok', value: null }
    if (reply.value.status === 412) return { type: 'fail', error: 'compare failed' }
    return { type: 'info', error: `cas answered ${reply.value.status}` }
  }

  close(): void {
    this.agent.destroy()
  }

  /**
   * One logical request, retried at other replicas where that is safe: after a redirect, a 503 or a
   * connection refused (nothing was executed). A write keeps one request ID across its attempts.
   */
  private async send(method: 'GET' | 'PUT', key: string, body: string | undefined, signal: AbortSignal, expected?: string): Promise<Outcome<Reply>> {
    const requestId = `${this.clientId}-${this.requests++}`
    let location: string | undefined
    while (!signal.aborted) {
      const base = location ?? this.endpoints[this.preferred % this.endpoints.length]!
      location = undefined
      const url = new URL(`/v1/kv/${encodeURIComponent(key)}`, base)
      if (expected !== undefined) url.searchParams.set('prev', expected)
      let reply: Reply
      try {
        reply = await this.request(method, url, body, requestId, signal)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? ''
        if (signal.aborted) return { type: 'info', error: 'timeout' }
        if (NOT_SENT.has(code)) {
          this.preferred += 1
          await sleep(50, signal)
          continue
        }
        return { type: 'info', error: code || String(error) }
      }
      if (reply.status === 307 && typeof reply.headers.location === 'string') {
        location = new URL(reply.headers.location, base).origin
        const index = this.endpoints.indexOf(location)
        if (index >= 0) this.preferred = index
        continue
      }
      if (reply.status === 503) {
        this.preferred += 1
        const after = Number(reply.headers['retry-after'] ?? '0')
        await sleep(Math.min(500, Math.max(50, after * 1000)), signal)
        continue
      }
      return { type: 'ok', value: reply }
    }
    return { type: 'info', error: 'timeout' }
  }

  private request(method: string, url: URL, body: string | undefined, requestId: string, signal: AbortSignal): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method, agent: this.agent, signal, headers: { 'x-request-id': requestId, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  }
}
