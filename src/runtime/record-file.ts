/**
 * The framing of the replica's record file: a sequence of records, each
 *
 *   u32 LE  length of the body (at least 1: the kind byte)
 *   u32 LE  CRC-32 of the body
 *   body    one kind byte, then the payload
 *
 * A record is written whole by one write, so after a crash only the LAST record can be incomplete
 * (a torn tail): recovery cuts it. A bad record with a good one somewhere after it cannot come from
 * a torn write; it is corruption, and recovery refuses the file. The frame knows nothing of what the
 * payloads mean (storage-records.ts does).
 */
import { crc32 } from 'node:zlib'
import * as E from 'fp-ts/Either'

export const HEADER_BYTES = 8

export interface FramedRecord {
  readonly kind: number
  readonly payload: Buffer
  /** Where the record starts in the file. */
  readonly offset: number
}

export interface ScannedFile {
  readonly records: readonly FramedRecord[]
  /** Bytes up to the end of the last good record: the file's length once a torn tail is cut. */
  readonly goodBytes: number
  /** Bytes after it (a torn tail), 0 when the file ends on a good record. */
  readonly tornBytes: number
}

/** One record: header and body, ready for a single write. */
export const frameRecord = (kind: number, payload: Buffer): Buffer => {
  if (!Number.isInteger(kind) || kind < 0 || kind > 255) throw new RangeError(`record kind ${kind} is not a byte`)
  const record = Buffer.allocUnsafe(HEADER_BYTES + 1 + payload.length)
  record[HEADER_BYTES] = kind
  payload.copy(record, HEADER_BYTES + 1)
  const body = record.subarray(HEADER_BYTES)
  record.writeUInt32LE(body.length, 0)
  record.writeUInt32LE(crc32(body), 4)
  return record
}

/** The length of the good record at `offset`, or undefined when none starts there. */
const goodRecordAt = (bytes: Buffer, offset: number): number | undefined => {
  if (bytes.length - offset < HEADER_BYTES + 1) return undefined
  const length = bytes.readUInt32LE(offset)
  // An empty body is never written (a run of zeros, as a crash may leave, would pass the CRC).
  if (length < 1 || length > bytes.length - offset - HEADER_BYTES) return undefined
  const body = bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length)
  return crc32(body) === bytes.readUInt32LE(offset + 4) ? HEADER_BYTES + length : undefined
}

/**
 * Every good record of a file, in order, and where the good part ends. Left: a bad record followed
 * by a good one (corruption, not a torn write), with the offsets of both.
 */
export const scanRecords = (bytes: Buffer): E.Either<string, ScannedFile> => {
  const records: FramedRecord[] = []
  let offset = 0
  while (offset < bytes.length) {
    const length = goodRecordAt(bytes, offset)
    if (length === undefined) break
    records.push({ kind: bytes[offset + HEADER_BYTES]!, payload: bytes.subarray(offset + HEADER_BYTES + 1, offset + length), offset })
    offset += length
  }
  for (let later = offset + 1; later < bytes.length; later++) {
    if (goodRecordAt(bytes, later) !== undefined) {
      return E.left(`a bad record at byte ${offset} is followed by a good one at byte ${later}: the file is corrupt, not torn`)
    }
  }
  return E.right({ records, goodBytes: offset, tornBytes: bytes.length - offset })
}
