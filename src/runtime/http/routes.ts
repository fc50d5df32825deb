/**
 * The client API's requests as data: the method, path and query of an HTTP request parsed into
 * what it asks for, or the 4xx that says why not (docs/http-api.md is the reference). Pure: no
 * sockets here, so every malformed request is tested without a server.
 */
import * as E from 'fp-ts/Either'
import type { AdminAction, MemberAddresses, NodeId } from '../../domain/wire'
import { formatAddress, parseAddress, parseReplicaId } from '../net/cluster'

/** The documented limits (docs/http-api.md). */
export const LIMITS = {
  /** A key's bytes, UTF-8, after percent-decoding. */
  keyBytes: 1024,
  /** A value's bytes (the request body, and a compare-and-set's expected value). */
  valueBytes: 64 * 1024,
  /** A request ID's characters: letters, digits and . _ : - */
  requestIdChars: 128,
  /** How long a request's body may take to arrive, once its headers have. */
  bodyTimeoutMs: 10_000,
} as const

export const REQUEST_ID_HEADER = 'x-request-id'
const REQUEST_ID = /^[A-Za-z0-9._:-]+$/

export type KvCondition = { readonly kind: 'value'; readonly value: string } | { readonly kind: 'absent' }

export type Route =
  | { readonly kind: 'get'; readonly key: string; readonly stale: boolean }
  | { readonly kind: 'put'; readonly key: string; readonly condition: KvCondition | undefined }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'status' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'admin'; readonly action: AdminAction; readonly member?: NodeId; readonly addresses?: MemberAddresses }

export interface ApiError {
  readonly status: number
  /** A short code a program can test. */
  readonly error: string
  readonly message: string
  /** For 405: the methods the path takes. */
  readonly allow?: string
}

export const apiError = (status: number, error: string, message: string, allow?: string): ApiError =>
  allow === undefined ? { status, error, message } : { status, error, message, allow }

const KV_PREFIX = '/v1/kv/'

/** Strict percent-decoding: Left for a stray `%` or bytes that are not UTF-8. */
const decodeComponent = (text: string, what: string): E.Either<ApiError, string> => {
  try {
    return E.right(decodeURIComponent(text))
  } catch {
    return E.left(apiError(400, 'bad_encoding', `the ${what} is not valid percent-encoded UTF-8`))
  }
}

/** The query as name → value (a name alone: ''), each strictly decoded; a name given twice is refused. */
const parseQuery = (query: string): E.Either<ApiError, Map<string, string>> => {
  const params = new Map<string, string>()
  if (query === '') return E.right(params)
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq), 'query')
    if (E.isLeft(name)) return name
    const value = decodeComponent(eq < 0 ? '' : part.slice(eq + 1), 'query')
    if (E.isLeft(value)) return value
    if (params.has(name.right)) return E.left(apiError(400, 'bad_query', `the query names ${JSON.stringify(name.right)} twice`))
    params.set(name.right, value.right)
  }
  return E.right(params)
}

const onlyParams = (params: Map<string, string>, allowed: readonly string[]): E.Either<ApiError, void> => {
  for (const name of params.keys()) {
    if (!allowed.includes(name)) {
      const known = allowed.length === 0 ? 'none' : allowed.join(', ')
      return E.left(apiError(400, 'bad_query', `unknown query parameter ${JSON.stringify(name)} (this request takes: ${known})`))
    }
  }
  return E.right(undefined)
}

const KV_METHODS = 'GET, PUT, DELETE'

/** Parses a request's method and target (`req.url`: path and query). */
export const parseRoute = (method: string, target: string): E.Either<ApiError, Route> => {
  const q = target.indexOf('?')
  const path = q < 0 ? target : target.slice(0, q)
  const query = parseQuery(q < 0 ? '' : target.slice(q + 1))
  if (E.isLeft(query)) return query
  const params = query.right

  if (path === '/v1/status' || path === '/metrics') {
    if (method !== 'GET' && method !== 'HEAD') return E.left(apiError(405, 'method_not_allowed', `${path} takes GET`, 'GET'))
    const none = onlyParams(params, [])
    if (E.isLeft(none)) return none
    return E.right(path === '/metrics' ? { kind: 'metrics' } : { kind: 'status' })
  }
  if (path === MEMBERS || path.startsWith(`${MEMBERS}/`) || path.startsWith(`${LEADER}/`)) return parseAdminRoute(method, path, params)
  if (!path.startsWith(KV_PREFIX)) {
    return E.left(
      apiError(404, 'not_found', `no such path: ${path.slice(0, 200)} (the API: /v1/kv/<key>, /v1/members, /v1/leader/<id>, /v1/status, /metrics)`),
    )
  }
  const rawKey = path.slice(KV_PREFIX.length)
  if (rawKey === '') return E.left(apiError(400, 'bad_key', 'the key is empty: /v1/kv/<key>'))
  const key = decodeComponent(rawKey, 'key')
  if (E.isLeft(key)) return key
  if (Buffer.byteLength(key.right, 'utf8') > LIMITS.keyBytes) {
    return E.left(apiError(413, 'key_too_large', `the key is over ${LIMITS.keyBytes} bytes`))
  }
  switch (method) {
    case 'GET': {
      const known = onlyParams(params, ['stale'])
      if (E.isLeft(known)) return known
      const stale = params.get('stale')
      if (stale !== undefined && stale !== '' && stale !== 'true' && stale !== 'false') {
        return E.left(apiError(400, 'bad_query', 'stale takes no value, true or false'))
      }
      return E.right({ kind: 'get', key: key.right, stale: stale === '' || stale === 'true' })
    }
    case 'PUT': {
      const known = onlyParams(params, ['prev', 'prevExist'])
      if (E.isLeft(known)) return known
      const prev = params.get('prev')
      const prevExist = params.get('prevExist')
      if (prev !== undefined && prevExist !== undefined) {
        return E.left(apiError(400, 'bad_query', 'give either prev=<value> or prevExist=false, not both'))
      }
      if (prevExist !== undefined && prevExist !== 'false') {
        return E.left(apiError(400, 'bad_query', 'prevExist takes only false (put only if the key has no value)'))
      }
      if (prev !== undefined && Buffer.byteLength(prev, 'utf8') > LIMITS.valueBytes) {
        return E.left(apiError(413, 'value_too_large', `the expected value is over ${LIMITS.valueBytes} bytes`))
      }
      const condition: KvCondition | undefined =
        prev !== undefined ? { kind: 'value', value: prev } : prevExist !== undefined ? { kind: 'absent' } : undefined
      return E.right({ kind: 'put', key: key.right, condition })
    }
    case 'DELETE': {
      const known = onlyParams(params, [])
      if (E.isLeft(known)) return known
      return E.right({ kind: 'delete', key: key.right })
    }
    default:
      return E.left(apiError(405, 'method_not_allowed', `/v1/kv/<key> takes ${KV_METHODS}`, KV_METHODS))
  }
}

const MEMBERS = '/v1/members'
const LEADER = '/v1/leader'

const memberId = (text: string): E.Either<ApiError, NodeId> => {
  const id = parseReplicaId(text)
  return id === undefined ? E.left(apiError(400, 'bad_member', `not a replica ID (one to four hex digits, below FF00): ${JSON.stringify(text.slice(0, 40))}`)) : E.right(id)
}

/**
 * Membership and leadership (docs/http-api.md): `GET /v1/members`; `PUT /v1/members/<id>?peer=H:P&client=H:P`
 * adds a learner; `POST /v1/members/<id>/promote`; `DELETE /v1/members/<id>`; `POST /v1/leader/<id>`
 * hands leadership to a voter.
 */
const parseAdminRoute = (method: string, path: string, params: Map<string, string>): E.Either<ApiError, Route> => {
  if (path === MEMBERS) {
    if (method !== 'GET' && method !== 'HEAD') return E.left(apiError(405, 'method_not_allowed', `${MEMBERS} takes GET`, 'GET'))
    const none = onlyParams(params, [])
    return E.isLeft(none) ? none : E.right({ kind: 'admin', action: 'list' })
  }
  if (path.startsWith(`${LEADER}/`)) {
    if (method !== 'POST') return E.left(apiError(405, 'method_not_allowed', `${LEADER}/<id> takes POST`, 'POST'))
    const none = onlyParams(params, [])
    if (E.isLeft(none)) return none
    const id = memberId(path.slice(LEADER.length + 1))
    return E.isLeft(id) ? id : E.right({ kind: 'admin', action: 'transfer', member: id.right })
  }
  const rest = path.slice(MEMBERS.length + 1)
  const promote = rest.endsWith('/promote')
  const id = memberId(promote ? rest.slice(0, -'/promote'.length) : rest)
  if (E.isLeft(id)) return id
  if (promote) {
    if (method !== 'POST') return E.left(apiError(405, 'method_not_allowed', `${MEMBERS}/<id>/promote takes POST`, 'POST'))
    const none = onlyParams(params, [])
    return E.isLeft(none) ? none : E.right({ kind: 'admin', action: 'promote', member: id.right })
  }
  if (method === 'DELETE') {
    const none = onlyParams(params, [])
    return E.isLeft(none) ? none : E.right({ kind: 'admin', action: 'remove', member: id.right })
  }
  if (method !== 'PUT') return E.left(apiError(405, 'method_not_allowed', `${MEMBERS}/<id> takes PUT, DELETE`, 'PUT, DELETE'))
  const known = onlyParams(params, ['peer', 'client'])
  if (E.isLeft(known)) return known
  const peerText = params.get('peer')
  const clientText = params.get('client')
  if (peerText === undefined && clientText === undefined) return E.right({ kind: 'admin', action: 'add', member: id.right })
  if (peerText === undefined || clientText === undefined) {
    return E.left(apiError(400, 'bad_query', 'give both peer=HOST:PORT and client=HOST:PORT, or neither'))
  }
  const peer = parseAddress(peerText)
  if (E.isLeft(peer)) return E.left(apiError(400, 'bad_address', `peer: ${peer.left}`))
  const client = parseAddress(clientText)
  if (E.isLeft(client)) return E.left(apiError(400, 'bad_address', `client: ${client.left}`))
  return E.right({ kind: 'admin', action: 'add', member: id.right, addresses: { peer: formatAddress(peer.right), client: formatAddress(client.right) } })
}

/** The request's ID from its header: Left when malformed; undefined when absent. */
export const parseRequestId = (header: string | string[] | undefined): E.Either<ApiError, string | undefined> => {
  if (header === undefined) return E.right(undefined)
  const text = Array.isArray(header) ? undefined : header
  if (text === undefined || text.length === 0 || text.length > LIMITS.requestIdChars || !REQUEST_ID.test(text)) {
    return E.left(
      apiError(400, 'bad_request_id', `X-Request-Id must be 1 to ${LIMITS.requestIdChars} letters, digits or . _ : - (one header)`),
    )
  }
  return E.right(text)
}

/** A body's bytes as the value: UTF-8 text only (the store keeps text). */
export const decodeValue = (bytes: Buffer): E.Either<ApiError, string> => {
  try {
    return E.right(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes))
  } catch {
    return E.left(apiError(400, 'bad_value', 'the value (the body) is not UTF-8 text'))
  }
}
