/**
 * The framing of the replica's record file: a sequence of records, each
 *
 *   u32 LE  length of the body (at least 1: the kind byte)
 *   u32 LE  CRC-32 of the body
 *   body    one kind byte, then the payload
 *
 * A record is written whole by one write at the end of the file and synced before the next, so
 * after a crash only the LAST record can be incomplete: a torn tail, which recovery cuts. A bad
 * record is called torn only from the facts a torn write leaves (the rule of etcd's WAL decoder,
 * `isTornEntry`): the record runs past the end of the file (the write, or the file's growth, did
 * not all reach the disk), or one of the disk sectors it covers is all zeros (the file grew but
 * that sector's data never reached the disk). Any other bad record is corruption (a flipped bit in
 * a complete record, a bad record with a good one after it), and recovery refuses the file. The
 * frame knows nothing of what the payloads mean (storage-records.ts does).
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

/** What a torn tail cut: where it starts, how long it is, what it held. */
export interface TornTail {
  readonly offset: number
  readonly bytes: number
  /** Records that start in it: 1 (the torn record), or 0 for a tail of zeros. */
  readonly records: number
  /** Why it is torn, for a person: "the record at byte 120 claims 300 bytes and 40 are there". */
  readonly why: string
}

export interface ScannedFile {
  readonly records: readonly FramedRecord[]
  /** Bytes up to the end of the last good record: the file's length once a torn tail is cut. */
  readonly goodBytes: number
  /** Bytes after it (a torn tail), 0 when the file ends on a good record. */
  readonly tornBytes: number
  /** The torn tail, when there is one. */
  readonly torn?: TornTail
}

/** The unit a disk writes whole or not at all, at offsets that are its multiples. */
export const SECTOR_BYTES = 512

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

/** Whether some sector that bytes [from, to) of the file cover is all zeros there. */
const hasZeroSector = (bytes: Buffer, from: number, to: number): boolean => {
  for (let start = from; start < to; ) {
    const end = Math.min(to, (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES)
    let zeros = true
    for (let i = start; i < end && zeros; i++) zeros = bytes[i] === 0
    if (zeros) return true
    start = end
  }
  return false
}

/**
 * The bad record at `offset` as a torn tail, or why it is not one. A record runs past the end of
 * the file when its header is not all there or claims more bytes than follow; otherwise it is
 * torn only if a sector of it is all zeros (a header claiming no body: the rest of the file).
 */
const tornAt = (bytes: Buffer, offset: number): E.Either<string, TornTail> => {
  const tail = bytes.length - offset
  const torn = (records: number, why: string) => E.right<string, TornTail>({ offset, bytes: tail, records, why })
  if (bytes.subarray(offset).every((b) => b === 0)) {
    return torn(0, `${tail} bytes of zeros after the last record`)
  }
  if (tail < HEADER_BYTES) return torn(1, `the record at byte ${offset} has ${tail} of its ${HEADER_BYTES} header bytes`)
  const length = bytes.readUInt32LE(offset)
  if (length > tail - HEADER_BYTES) {
    return torn(1, `the record at byte ${offset} claims ${length} bytes after its header and ${tail - HEADER_BYTES} are there`)
  }
  const end = length < 1 ? bytes.length : offset + HEADER_BYTES + length
  if (hasZeroSector(bytes, offset, end)) {
    return torn(1, `the record at byte ${offset} (${end - offset} bytes) has a ${SECTOR_BYTES}-byte sector of zeros`)
  }
  const what = length < 1 ? 'claims an empty body' : 'is complete and fails its checksum'
  return E.left(`the record at byte ${offset} ${what}, with no sector of zeros: the file is corrupt, not torn`)
}

/**
 * Every good record of a file, in order, and where the good part ends. Left: a bad record that is
 * not a torn tail (see tornAt), or a bad record followed by a good one (corruption, not a torn
 * write), with the offsets of both.
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
  if (offset === bytes.length) return E.right({ records, goodBytes: offset, tornBytes: 0 })
  for (let later = offset + 1; later < bytes.length; later++) {
    if (goodRecordAt(bytes, later) !== undefined) {
      return E.left(`a bad record at byte ${offset} is followed by a good one at byte ${later}: the file is corrupt, not torn`)
    }
  }
  const torn = tornAt(bytes, offset)
  if (E.isLeft(torn)) return torn
  return E.right({ records, goodBytes: offset, tornBytes: bytes.length - offset, torn: torn.right })
}
