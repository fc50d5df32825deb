/**
 * The general checks every datagram read from a replica's socket goes through (protocol steps 1-3).
 */
import { BROADCAST as WIRE_BROADCAST } from '../domain/wire'

/** `FFFF`, as a plain string: kvsim handles datagrams before knowing their fields are IDs. */
export const BROADCAST: string = WIRE_BROADCAST

const FOUR_HEX = /^[0-9A-Fa-f]{4}$/

/** The course's simulator accepts any four hex digits in `src`, `dst` and `leader`, either case. */
export function isFourHex(value: unknown): value is string {
  return typeof value === 'string' && FOUR_HEX.test(value)
}

export interface Message {
  src: string
  dst: string
  leader: string
  type: string
  [field: string]: unknown
}

export type Classified =
  /** Empty or not UTF-8: the replica is closed and counts as died. */
  | { kind: 'closed'; reason: string }
  | { kind: 'incorrect'; reason: string }
  | { kind: 'hello'; message: Message }
  | { kind: 'message'; message: Message }

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function classifyDatagram(bytes: Uint8Array): Classified {
  if (bytes.length === 0) return { kind: 'closed', reason: 'empty datagram' }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return { kind: 'closed', reason: 'datagram is not UTF-8' }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { kind: 'incorrect', reason: `not JSON: ${abbreviate(text)}` }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { kind: 'incorrect', reason: `not a JSON object: ${abbreviate(text)}` }
  }
  const record = parsed as Record<string, unknown>
  for (const field of ['src', 'dst', 'leader', 'type']) {
    if (!(field in record)) return { kind: 'incorrect', reason: `missing field "${field}": ${abbreviate(text)}` }
  }
  for (const field of ['src', 'dst', 'leader']) {
    if (!isFourHex(record[field])) {
      return { kind: 'incorrect', reason: `malformed "${field}" ${JSON.stringify(record[field])}: ${abbreviate(text)}` }
    }
  }
  const message = record as Message
  return message.type === 'hello' ? { kind: 'hello', message } : { kind: 'message', message }
}

export function abbreviate(text: string, max = 160): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

export function encode(message: object): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8')
}
