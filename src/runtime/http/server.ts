/**
 * The client API of the real cluster over HTTP/1.1 (docs/http-api.md): a request becomes the same
 * client message the course's clients send (a client ID, the request ID as the MID, the key and
 * value), handed to the replica as an event; the reducer's answer (ok, fail, redirect) becomes the
 * response. Nothing here decides anything of Raft: which replica leads, when a write is committed
 * and when a read may be answered are the reducer's.
 *
 * - 200: done (a write committed and applied; a read answered linearizably, or from this replica's
 *   own state with `?stale`); 404 for a key with no value.
 * - 307 to the leader's client URL when this replica is not the leader (the reducer's redirect).
 * - 503 with Retry-After when this replica knows no leader: the request was not handed on, so it
 *   has certainly not taken effect.
 * - 504 when no answer came in time: the write may or may not take effect; a retry with the same
 *   X-Request-Id is applied at most once.
 * - Bad input: a JSON error with a 4xx status, before anything reaches the replica.
 */
import * as http from 'node:http'
import type * as net from 'node:net'
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/Either'
import type { ReplicaStatus } from '../../domain/status'
import type { AdminRequest, ClientRequest, MemberAddresses, Message, NodeId } from '../../domain/wire'
import { Histogram, LabelledCounter, type MetricFamily } from './metrics'
import { apiError, decodeValue, LIMITS, parseRequestId, parseRoute, REQUEST_ID_HEADER, type ApiError, type Route } from './routes'
import type { Address } from '../net/cluster'
import { listenOn } from '../net/listen'

/**
 * The client ID every request of this front end carries. The reducer sends its answer to it, and
 * the runtime routes messages for it here. IDs from FF00 on are never replicas' (net/cluster.ts).
 */
export const FRONT_END_CLIENT = 'FF00' as NodeId

/** How long a request waits for the reducer's answer before a 504. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 10_000

export interface ClientApiIO {
  readonly self: NodeId
  /** Each replica's client origin (`http://host:port`), for a redirect's Location. */
  readonly origins: ReadonlyMap<NodeId, string>
  readonly status: () => ReplicaStatus
  /** A key's value in this replica's state machine now (a stale read). */
  readonly localRead: (key: string) => string | undefined
  /** Hands a client's (or an operator's) request to the replica. */
  readonly submit: (request: ClientRequest | AdminRequest) => void
  /** Every member's addresses this replica knows (the cluster it started in, and the log's). */
  readonly addressBook: () => Readonly<Record<string, MemberAddresses>>
  /** The rest of /metrics (the replica's own families). */
  readonly replicaMetrics: () => readonly MetricFamily[]
  readonly answerTimeoutMs?: number
  /** How long a body may take to arrive (default LIMITS.bodyTimeoutMs). */
  readonly bodyTimeoutMs?: number
  readonly trace: ((line: string) => void) | undefined
}

type Reply = Extract<Message, { type: 'ok' | 'fail' | 'redirect' | 'adminReply' | 'refused' }>

/** The routes whose requests go to the replica. */
type Forwarded = Extract<Route, { kind: 'get' | 'put' | 'delete' | 'admin' }>

interface Waiter {
  readonly answer: (reply: Reply) => void
}

type Kind = 'get' | 'put' | 'cas' | 'delete' | 'admin' | 'status' | 'metrics' | 'invalid'

const JSON_TYPE = 'application/json'

export class ClientApi {
  private readonly server: http.Server
  private readonly waiting = new Map<string, Waiter[]>()
  private readonly requests = new LabelledCounter()
  private readonly latency = new Map<string, Histogram>()
  private readonly answerTimeoutMs: number
  private readonly bodyTimeoutMs: number

  constructor(private readonly io: ClientApiIO) {
    this.answerTimeoutMs = io.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS
    this.bodyTimeoutMs = io.bodyTimeoutMs ?? LIMITS.bodyTimeoutMs
    this.server = http.createServer({ keepAlive: true, requestTimeout: 60_000, headersTimeout: 10_000 }, (req, res) =>
      this.handle(req, res),
    )
    this.server.keepAliveTimeout = 65_000
    // A request Node's parser refuses (a malformed request line or header, headers too large).
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
      if (!socket.writable || (error.code === 'ECONNRESET')) {
        socket.destroy()
        return
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
      const body = JSON.stringify({ error: 'bad_request', message: `the request could not be parsed (${error.code ?? error.message})` })
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
      this.requests.inc('kind="invalid",code="' + status + '"')
    })
  }

  listen(address: Address): Promise<Address> {
    return listenOn(this.server, address)
  }

  close(): void {
    this.server.close()
    this.server.closeAllConnections()
  }

  /** An answer from the replica to this front end's client. */
  onReply(message: Message): void {
    if (message.type !== 'ok' && message.type !== 'fail' && message.type !== 'redirect' && message.type !== 'adminReply' && message.type !== 'refused') return
    const waiters = this.waiting.get(message.MID)
    if (waiters === undefined) return
    this.waiting.delete(message.MID)
    for (const waiter of waiters) waiter.answer(message)
  }

  /** The request counters and latency histograms, for /metrics. */
  families(): MetricFamily[] {
    const latencyLines: string[] = []
    for (const [kind, histogram] of [...this.latency.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      latencyLines.push(...histogram.render('raftkv_http_request_duration_seconds', `kind="${kind}"`))
    }
    return [
      { name: 'raftkv_http_requests_total', help: 'Client requests answered, by kind and status code.', type: 'counter', lines: this.requests.render('raftkv_http_requests_total') },
      { name: 'raftkv_http_request_duration_seconds', help: 'Time from a request\'s arrival to its answer, by kind.', type: 'histogram', lines: latencyLines },
      { name: 'raftkv_http_requests_waiting', help: 'Requests handed to the replica and not answered yet.', type: 'gauge', lines: [`raftkv_http_requests_waiting ${this.waiting.size}`] },
    ]
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const began = performance.now()
    const routed = parseRoute(req.method ?? '', req.url ?? '')
    if (E.isLeft(routed)) return this.fail(req, res, 'invalid', began, routed.left)
    const route = routed.right
    const kind: Kind = route.kind === 'put' && route.condition !== undefined ? 'cas' : route.kind
    const id = parseRequestId(req.headers[REQUEST_ID_HEADER])
    if (E.isLeft(id)) return this.fail(req, res, kind, began, id.left)
    switch (route.kind) {
      case 'status':
        req.resume()
        return this.send(res, kind, began, 200, JSON_TYPE, JSON.stringify(this.io.status()))
      case 'metrics':
        req.resume()
        return this.send(res, kind, began, 200, 'text/plain; version=0.0.4; charset=utf-8', this.metricsText())
      case 'get':
        req.resume()
        if (route.stale) return this.answerStale(res, began, route.key)
        return this.forward(req, res, kind, began, route, id.right, undefined)
      case 'delete':
      case 'admin':
        req.resume()
        return this.forward(req, res, kind, began, route, id.right, undefined)
      case 'put':
        this.readBody(req, res, began, kind, (value) => this.forward(req, res, kind, began, route, id.right, value))
        return
    }
  }

  private metricsText(): string {
    const families = [...this.io.replicaMetrics(), ...this.families()]
    return families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join('\n')).join('\n') + '\n'
  }

  private answerStale(res: http.ServerResponse, began: number, key: string): void {
    const value = this.io.localRead(key)
    if (value === undefined) return this.sendError(res, 'get', began, apiError(404, 'not_found', 'the key has no value (a stale read)'))
    res.setHeader('X-Raftkv-Stale', 'true')
    this.send(res, 'get', began, 200, 'application/octet-stream', value)
  }

  /**
   * Reads a put's body: at most LIMITS.valueBytes, within the body timeout, UTF-8. Anything
   * else is answered here and the connection closed (its unread body would be taken for the next
   * request); a client that goes away is not answered.
   */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse, began: number, kind: Kind, then: (value: string) => void): void {
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > LIMITS.valueBytes) {
      return this.fail(req, res, kind, began, apiError(413, 'value_too_large', `the value is over ${LIMITS.valueBytes} bytes`))
    }
    const chunks: Buffer[] = []
    let bytes = 0
    let done = false
    const timer = setTimeout(() => {
      if (done) return
      done = true
      this.fail(req, res, kind, began, apiError(408, 'body_timeout', `the body did not arrive within ${this.bodyTimeoutMs / 1000} s`))
    }, this.bodyTimeoutMs)
    req.on('data', (chunk: Buffer) => {
      if (done) return
      bytes += chunk.length
      if (bytes > LIMITS.valueBytes) {
        done = true
        clearTimeout(timer)
        this.fail(req, res, kind, began, apiError(413, 'value_too_large', `the value is over ${LIMITS.valueBytes} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (done) return
      done = true
      clearTimeout(timer)
      const value = decodeValue(Buffer.concat(chunks, bytes))
      if (E.isLeft(value)) return this.sendError(res, kind, began, value.left)
      then(value.right)
    })
    // A truncated body: the client closed the connection before the end. Nobody to answer.
    req.on('close', () => {
      if (done) return
      done = true
      clearTimeout(timer)
    })
    req.on('error', () => {})
  }

  /** Hands the request to the replica and answers what the reducer answers. */
  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    kind: Kind,
    began: number,
    route: Forwarded,
    requestId: string | undefined,
    value: string | undefined,
  ): void {
    const status = this.io.status()
    // A replica outside its configuration (a removed one, restarted: nobody names it a leader) is
    // left to the reducer, which says it is not a member.
    const member = status.voters.includes(status.id) || status.learners.includes(status.id)
    if (status.leader === undefined && member) {
      res.setHeader('Retry-After', '1')
      return this.sendError(res, kind, began, apiError(503, 'no_leader', 'no leader is known just now; the request was not taken; try again'))
    }
    const MID = requestId ?? randomUUID()
    const request = this.requestOf(route, MID, value)
    let answered = false
    const timer = setTimeout(() => {
      if (answered) return
      answered = true
      const waiters = this.waiting.get(MID)
      if (waiters !== undefined) {
        const rest = waiters.filter((w) => w !== waiter)
        if (rest.length === 0) this.waiting.delete(MID)
        else this.waiting.set(MID, rest)
      }
      this.sendError(
        res,
        kind,
        began,
        apiError(504, 'timeout', `no answer within ${this.answerTimeoutMs / 1000} s; the request may or may not take effect: retry it with the same X-Request-Id (${MID})`),
      )
    }, this.answerTimeoutMs)
    const waiter: Waiter = {
      answer: (reply) => {
        if (answered) return
        answered = true
        clearTimeout(timer)
        this.answer(req, res, kind, began, route, reply)
      },
    }
    const waiters = this.waiting.get(MID)
    if (waiters === undefined) this.waiting.set(MID, [waiter])
    else waiters.push(waiter)
    res.setHeader('X-Request-Id', MID)
    this.io.submit(request)
  }

  private requestOf(route: Forwarded, MID: string, value: string | undefined): ClientRequest | AdminRequest {
    const envelope = { src: FRONT_END_CLIENT, dst: this.io.self, leader: this.io.self }
    switch (route.kind) {
      case 'admin': {
        // A change's configuration entry carries every member's addresses (the new one's from the
        // request), so that every replica, and one that joins later, learns them from the log.
        const book = route.action === 'list' || route.action === 'transfer' ? undefined : { ...this.io.addressBook() }
        if (book !== undefined && route.member !== undefined && route.addresses !== undefined) book[route.member] = route.addresses
        return {
          ...envelope,
          type: 'admin',
          MID,
          action: route.action,
          ...(route.member === undefined ? {} : { member: route.member }),
          ...(book === undefined ? {} : { addresses: book }),
        }
      }
      case 'get':
        return { ...envelope, type: 'get', MID, key: route.key }
      case 'put':
        if (route.condition === undefined) return { ...envelope, type: 'put', MID, key: route.key, value: value ?? '' }
        return {
          ...envelope,
          type: 'cas',
          MID,
          key: route.key,
          expected: route.condition.kind === 'value' ? route.condition.value : null,
          value: value ?? '',
        }
      case 'delete':
        return { ...envelope, type: 'delete', MID, key: route.key }
    }
  }

  private answer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    kind: Kind,
    began: number,
    route: Forwarded,
    reply: Reply,
  ): void {
    switch (reply.type) {
      case 'adminReply': {
        // Members whose addresses the configuration lacks (a cluster's first members) as this replica knows them.
        const known = this.io.addressBook()
        const addresses: Record<string, MemberAddresses> = {}
        for (const id of [...reply.voters, ...reply.learners]) {
          const a = reply.addresses[id] ?? known[id]
          if (a !== undefined) addresses[id] = a
        }
        return this.send(res, kind, began, 200, JSON_TYPE, JSON.stringify({ voters: reply.voters, learners: reply.learners, addresses }))
      }
      case 'refused':
        // A refusal that may pass later or elsewhere (a change that must wait, a replica that is not
        // a member: another replica serves) is a 503, which clients retry; any other a 409.
        if (reply.retry === true) {
          res.setHeader('Retry-After', '1')
          return this.sendError(res, kind, began, apiError(503, 'refused', reply.reason))
        }
        return this.sendError(res, kind, began, apiError(409, 'refused', reply.reason))
      case 'redirect': {
        const origin = this.io.origins.get(reply.leader)
        if (origin === undefined || reply.leader === this.io.self) {
          res.setHeader('Retry-After', '1')
          return this.sendError(res, kind, began, apiError(503, 'no_leader', 'no leader is known just now; try again'))
        }
        res.setHeader('Location', `${origin}${req.url ?? '/'}`)
        return this.sendError(res, kind, began, { ...apiError(307, 'not_leader', `replica ${this.io.self} is not the leader; ${reply.leader} is`), leader: reply.leader } as ApiError)
      }
      case 'fail':
        return this.sendError(res, kind, began, apiError(412, 'compare_failed', 'the key\'s value is not the expected one; nothing was written'))
      case 'ok':
        if (route.kind !== 'get') return this.send(res, kind, began, 200, JSON_TYPE, '{"ok":true}')
        if (reply.value === undefined) return this.sendError(res, kind, began, apiError(404, 'not_found', 'the key has no value'))
        return this.send(res, kind, began, 200, 'application/octet-stream', reply.value)
    }
  }

  /** An error before the body was read: answered, and the connection closed after it. */
  private fail(req: http.IncomingMessage, res: http.ServerResponse, kind: Kind, began: number, error: ApiError): void {
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined
    if (hasBody && !req.complete) res.setHeader('Connection', 'close')
    this.sendError(res, kind, began, error)
    if (hasBody && !req.complete) res.once('finish', () => req.socket.destroySoon())
  }

  private sendError(res: http.ServerResponse, kind: Kind, began: number, error: ApiError): void {
    if (error.allow !== undefined) res.setHeader('Allow', error.allow)
    const { status, allow: _allow, ...body } = error
    this.send(res, kind, began, status, JSON_TYPE, JSON.stringify(body))
  }

  private send(res: http.ServerResponse, kind: Kind, began: number, status: number, type: string, body: string): void {
    this.requests.inc(`kind="${kind}",code="${status}"`)
    let histogram = this.latency.get(kind)
    if (histogram === undefined) this.latency.set(kind, (histogram = new Histogram()))
    histogram.observe((performance.now() - began) / 1000)
    if (res.destroyed || res.writableEnded) return
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body, 'utf8') })
    res.end(body)
  }
}
