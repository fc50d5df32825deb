/**
 * The frames replicas exchange over TCP: a 4-byte big-endian length, then the message as the
 * course's JSON (read back by the same codecs, domain/wire.ts decodeMessage).
 *
 * A leader sends the same new entries to every follower that is up to date, one AppendEntries
 * each: the entries are encoded to bytes once, and every follower's frame carries those same
 * bytes (a frame is a list of chunks, written together). Only the envelope (the follower's ID, its
 * previous index) is encoded per follower. The entries go first in the JSON object: its key order
 * means nothing to the reader.
 */
import * as E from 'fp-ts/Either'
import { encodeMessage, type Entry, type Message } from '../../domain/wire'

/** Frames longer than this close the connection: no replica sends them. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024
const HEADER_BYTES = 4
const ENTRIES_KEY = '{"entries":'

/** Encodes messages as frames, keeping the last AppendEntries' entries as bytes for the next one. */
export class FrameEncoder {
  private lastEntries: readonly Entry[] = []
  private lastEntriesBytes: Buffer | undefined
  /** How many times entries were encoded (the rest were reused). */
  entriesEncoded = 0

  /** The frame of `message`, as chunks to write in order (shared chunks are never modified). */
  frame(message: Message): readonly Buffer[] {
    if (message.type !== 'append' || message.entries.length === 0) return [frameOf(encodeMessage(message))]
    const { entries, ...envelope } = message
    const entriesBytes = this.entriesBytes(entries)
    // `{"entries":[...],"src":...}`: the envelope's own JSON, its opening brace replaced by a comma.
    const rest = Buffer.from(`,${JSON.stringify(envelope).slice(1)}`, 'utf8')
    const head = Buffer.allocUnsafe(HEADER_BYTES + ENTRIES_KEY.length)
    head.writeUInt32BE(ENTRIES_KEY.length + entriesBytes.length + rest.length, 0)
    head.write(ENTRIES_KEY, HEADER_BYTES, 'latin1')
    return [head, entriesBytes, rest]
  }

  private entriesBytes(entries: readonly Entry[]): Buffer {
    if (this.lastEntriesBytes !== undefined && sameEntries(entries, this.lastEntries)) return this.lastEntriesBytes
    const bytes = Buffer.from(JSON.stringify(entries), 'utf8')
    this.lastEntries = entries
    this.lastEntriesBytes = bytes
    this.entriesEncoded++
    return bytes
  }
}

/** Log entries are immutable and a log keeps each entry's object: the same objects are the same entries. */
const sameEntries = (a: readonly Entry[], b: readonly Entry[]): boolean => {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** One frame of `text`: the header and the body in one buffer. */
export const frameOf = (text: string): Buffer => {
  const length = Buffer.byteLength(text, 'utf8')
  const bytes = Buffer.allocUnsafe(HEADER_BYTES + length)
  bytes.writeUInt32BE(length, 0)
  bytes.write(text, HEADER_BYTES, 'utf8')
  return bytes
}

/** Reads frames out of a byte stream; Left when a frame announces more than MAX_FRAME_BYTES. */
export class FrameReader {
  private buffered: Buffer[] = []
  private bufferedBytes = 0

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): E.Either<string, void> {
    this.buffered.push(chunk)
    this.bufferedBytes += chunk.length
    if (this.bufferedBytes < HEADER_BYTES) return E.right(undefined)
    let all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered, this.bufferedBytes)
    let at = 0
    while (all.length - at >= HEADER_BYTES) {
      const length = all.readUInt32BE(at)
      if (length > MAX_FRAME_BYTES) return E.left(`a frame of ${length} bytes (the most is ${MAX_FRAME_BYTES})`)
      if (all.length - at - HEADER_BYTES < length) break
      onFrame(all.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length))
      at += HEADER_BYTES + length
    }
    all = all.subarray(at)
    this.buffered = all.length === 0 ? [] : [all]
    this.bufferedBytes = all.length
    return E.right(undefined)
  }
}
