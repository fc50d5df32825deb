/**
 * The frames between replicas of the real cluster (src/runtime/net/frames.ts): every message reads
 * back as itself, whatever chunks the stream cuts it into; the entries a leader sends to several
 * followers in a row are encoded once, and every follower's frame carries the same bytes.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { decodeMessage, type AppendEntries, type Message } from '../../src/domain/wire'
import { FrameEncoder, FrameReader, frameOf, MAX_FRAME_BYTES } from '../../src/runtime/net/frames'
import { noop, putEntry, R } from '../domain/helpers'

const append = (dst: (typeof R)[number], entries: AppendEntries['entries'], extra: Partial<AppendEntries> = {}): AppendEntries => ({
  src: R[0],
  dst,
  leader: R[0],
  type: 'append',
  term: 3,
  prevLogIndex: 7,
  prevLogTerm: 2,
  entries,
  leaderCommit: 6,
  sentAt: 1234.5,
  ...extra,
})

/** Every message framed by `encoder`, the frames' chunks as one stream cut at `cuts`, read back. */
const roundTrip = (messages: readonly Message[], encoder: FrameEncoder, cut: number): Message[] => {
  const stream = Buffer.concat(messages.flatMap((m) => [...encoder.frame(m)]))
  const reader = new FrameReader()
  const read: Message[] = []
  for (let at = 0; at < stream.length; at += cut) {
    const pushed = reader.push(stream.subarray(at, at + cut), (frame) => {
      const decoded = decodeMessage(frame.toString('utf8'))
      if (E.isLeft(decoded)) throw new Error(decoded.left)
      read.push(decoded.right)
    })
    expect(E.isRight(pushed)).toBe(true)
  }
  return read
}

const entries = [putEntry(3, 'ключ', 'värde ✓', 'm1'), noop(3), putEntry(3, 'k', 'v', 'm2')]

describe('frames between replicas', () => {
  const messages: Message[] = [
    { src: R[0], dst: R[1], leader: R[0], type: 'hello' },
    append(R[1], entries),
    append(R[2], entries, { recoveredUpTo: 5 }),
    append(R[1], []),
    append(R[2], entries.slice(1)),
  ]

  it('every message reads back as itself, the stream cut anywhere (UTF-8 counted in bytes)', () => {
    for (const cut of [1, 3, 7, 64, 100_000]) expect(roundTrip(messages, new FrameEncoder(), cut)).toEqual(messages)
  })

  it("a leader's entries are encoded once for the followers that get the same ones in a row, and their bytes shared", () => {
    const encoder = new FrameEncoder()
    const toFirst = encoder.frame(append(R[1], entries))
    // The second follower's message holds its own copy of the array (the log's slice), with the same entries.
    const toSecond = encoder.frame(append(R[2], [...entries], { prevLogIndex: 7 }))
    expect(encoder.entriesEncoded).toBe(1)
    expect(toSecond[1]).toBe(toFirst[1])
    // Other entries, or fewer of them, are encoded anew.
    encoder.frame(append(R[1], entries.slice(0, 2)))
    encoder.frame(append(R[1], [entries[0]!, { ...entries[1]! }, entries[2]!]))
    expect(encoder.entriesEncoded).toBe(3)
  })

  it('refuses a frame that announces more than the most a replica sends', () => {
    const header = Buffer.alloc(4)
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0)
    expect(E.isLeft(new FrameReader().push(header, () => {}))).toBe(true)
    expect(frameOf('{}').readUInt32BE(0)).toBe(2)
  })
})
