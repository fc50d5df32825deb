/**
 * The wire format: decodeMessage is the only door from the network into the domain. It accepts every
 * message kind of the protocol and of our Raft RPCs, and rejects anything malformed with a Left,
 * never throwing.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, parseNodeId, type Message } from '../../src/domain/wire'
import { append, appendReply, FFFF, get, id, noop, put, putCmd, putEntry, vote, voteReply } from './helpers'

const A = id('0001')
const B = id('0002')
const C = id('0015')

const every: Record<string, Message> = {
  hello: { src: A, dst: FFFF, leader: FFFF, type: 'hello' },
  get: get({ src: C, dst: A, MID: 'ABCDEFGH01234567', key: 'k'.repeat(32) }),
  put: put({ src: C, dst: A, MID: 'ABCDEFGH01234567', key: 'k'.repeat(32), value: 'a'.repeat(32) }),
  okPut: { src: A, dst: C, leader: A, type: 'ok', MID: 'm' },
  okGet: { src: A, dst: C, leader: A, type: 'ok', MID: 'm', value: 'v' },
  redirect: { src: A, dst: C, leader: B, type: 'redirect', MID: 'm' },
  fail: { src: A, dst: C, leader: FFFF, type: 'fail', MID: 'm' },
  vote: vote({ src: A, term: 3, lastLogIndex: 7, lastLogTerm: 2 }),
  preVote: vote({ src: A, dst: B, term: 3, lastLogIndex: 7, lastLogTerm: 2, pre: true }),
  voteReply: voteReply({ src: B, dst: A, term: 3, granted: true, pre: true }),
  append: append({ src: A, dst: B, term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [noop(3), putEntry(3, 'k', 'v', 'm1')], leaderCommit: 2, sentAt: 1234.5 }),
  heartbeat: append({ src: A, dst: B, term: 3 }),
  appendReply: appendReply({ src: B, dst: A, term: 3, success: false, conflictIndex: 4, conflictTerm: 2, sentAt: 99 }),
  forward: { src: B, dst: A, leader: A, type: 'forward', puts: [putCmd('k', 'v', 'm1', C)] },
  delete: { src: C, dst: A, leader: A, type: 'delete', MID: 'd1', key: 'k' },
  cas: { src: C, dst: A, leader: A, type: 'cas', MID: 'c1', key: 'k', expected: 'v1', value: 'v2' },
  casIfAbsent: { src: C, dst: A, leader: A, type: 'cas', MID: 'c2', key: 'k', expected: null, value: 'v' },
  forwardWrites: {
    src: B,
    dst: A,
    leader: A,
    type: 'forward',
    puts: [
      { op: 'delete', key: 'k', client: C, MID: 'd1' },
      { op: 'cas', key: 'k', expected: null, value: 'v', client: C, MID: 'c1' },
    ],
  },
}

const decodesTo = (text: string) => decodeMessage(text)

describe('decodeMessage', () => {
  for (const [name, message] of Object.entries(every)) {
    it(`accepts a ${name} and gives back the same message`, () => {
      const decoded = decodesTo(encodeMessage(message))
      expect(decoded).toEqual(E.right(message))
    })
  }

  it('accepts extra fields (the protocol lets each side add its own)', () => {
    const text = JSON.stringify({ ...every.get, extra: 1 })
    expect(E.isRight(decodesTo(text))).toBe(true)
  })

  const rejects = (text: string) => {
    let result: E.Either<string, Message> | undefined
    expect(() => {
      result = decodeMessage(text)
    }).not.toThrow()
    expect(E.isLeft(result!)).toBe(true)
  }

  it('rejects text that is not JSON, or JSON that is not an object', () => {
    for (const text of ['', '{', 'hello', '{"src": "0001",}', 'null', '42', '"get"', '[]', '[{"type":"hello"}]', 'true']) rejects(text)
  })

  it('rejects IDs that are not four upper-case hex digits', () => {
    for (const bad of ['ffff', '000a', '00001', '001', '', 'GGGG', ' 0001', 0, null]) {
      rejects(JSON.stringify({ ...every.get, src: bad }))
      rejects(JSON.stringify({ ...every.get, dst: bad }))
      rejects(JSON.stringify({ ...every.get, leader: bad }))
    }
    expect(parseNodeId('ffff')).toBeUndefined()
    expect(parseNodeId('0000A')).toBeUndefined()
    expect(parseNodeId('00AF')).toBe('00AF')
  })

  it('rejects a message with a field missing', () => {
    for (const message of Object.values(every)) {
      for (const field of Object.keys(message)) {
        if (message.type === 'ok' && field === 'value') continue
        const partial: Record<string, unknown> = { ...message }
        delete partial[field]
        rejects(JSON.stringify(partial))
      }
    }
  })

  it('rejects unknown types and fields of the wrong type', () => {
    rejects(JSON.stringify({ ...every.get, type: 'remove' }))
    rejects(JSON.stringify({ ...every.get, MID: 5 }))
    rejects(JSON.stringify({ ...every.put, value: null }))
    rejects(JSON.stringify({ ...every.cas, expected: 5 }))
    rejects(JSON.stringify({ ...every.delete, key: undefined }))
    rejects(JSON.stringify({ ...every.vote, pre: 'yes' }))
    rejects(JSON.stringify({ ...every.voteReply, granted: 1 }))
    rejects(JSON.stringify({ ...every.append, entries: {} }))
    rejects(JSON.stringify({ ...every.append, entries: [{ term: 1 }] }))
    rejects(JSON.stringify({ ...every.append, entries: [{ term: 1, command: { op: 'delete' } }] }))
    rejects(JSON.stringify({ ...every.append, entries: [{ term: 1, command: { op: 'put', key: 'k', value: 'v', client: 'x', MID: 'm' } }] }))
    rejects(JSON.stringify({ ...every.forward, puts: [{ op: 'noop' }] }))
    rejects(JSON.stringify({ ...every.appendReply, success: 'true' }))
  })

  it('rejects terms and indexes that are negative, fractional, too large or not numbers', () => {
    for (const bad of [-1, 1.5, 2 ** 53, 1e300, '3', null]) {
      rejects(JSON.stringify({ ...every.vote, term: bad }))
      rejects(JSON.stringify({ ...every.vote, lastLogIndex: bad }))
      rejects(JSON.stringify({ ...every.append, prevLogIndex: bad }))
      rejects(JSON.stringify({ ...every.append, leaderCommit: bad }))
      rejects(JSON.stringify({ ...every.appendReply, matchIndex: bad }))
      rejects(JSON.stringify({ ...every.append, entries: [{ term: bad, command: { op: 'noop' } }] }))
    }
    // The largest safe integer is a valid index.
    expect(E.isRight(decodesTo(JSON.stringify({ ...every.append, prevLogIndex: Number.MAX_SAFE_INTEGER })))).toBe(true)
  })

  it('round-trips: encode then decode gives the message back', () => {
    for (const message of Object.values(every)) {
      expect(decodesTo(encodeMessage(message))).toEqual(E.right(message))
    }
  })
})
