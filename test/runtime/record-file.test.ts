/**
 * The record frame: length, CRC-32, kind, payload. A torn last record is cut; a bad record with a
 * good one after it is corruption.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { frameRecord, HEADER_BYTES, scanRecords, type ScannedFile } from '../../src/runtime/record-file'

const text = (s: string): Buffer => Buffer.from(s, 'utf8')
const scanned = (bytes: Buffer): ScannedFile => {
  const result = scanRecords(bytes)
  if (E.isLeft(result)) throw new Error(result.left)
  return result.right
}
const three = Buffer.concat([frameRecord(1, text('{"a":1}')), frameRecord(2, text('{"b":[1,2,3]}')), frameRecord(2, text(''))])

describe('record file framing', () => {
  it('reads back every record, kind and payload, in order', () => {
    const file = scanned(three)
    expect(file.records.map((r) => [r.kind, r.payload.toString('utf8')])).toEqual([[1, '{"a":1}'], [2, '{"b":[1,2,3]}'], [2, '']])
    expect(file.goodBytes).toBe(three.length)
    expect(file.tornBytes).toBe(0)
    expect(scanned(Buffer.alloc(0)).records).toEqual([])
  })

  it('cuts a torn last record, whatever point the write stopped at', () => {
    const last = frameRecord(2, text('{"entries":["x","y"]}'))
    const whole = Buffer.concat([three, last])
    for (let cut = 1; cut < last.length; cut++) {
      const file = scanned(whole.subarray(0, three.length + cut))
      expect(file.records).toHaveLength(3)
      expect(file.goodBytes).toBe(three.length)
      expect(file.tornBytes).toBe(cut)
    }
  })

  it('cuts a last record whose bytes were flipped, or a tail of zeros', () => {
    const flipped = Buffer.from(three)
    flipped[flipped.length - 2]! ^= 0xff
    const file = scanned(flipped)
    expect(file.records).toHaveLength(2)
    expect(file.tornBytes).toBe(frameRecord(2, text('')).length)
    const zeros = scanned(Buffer.concat([three, Buffer.alloc(4096)]))
    expect(zeros.records).toHaveLength(3)
    expect(zeros.tornBytes).toBe(4096)
  })

  it('refuses a bad record followed by a good one: corruption, not a torn write', () => {
    const middle = Buffer.from(three)
    middle[frameRecord(1, text('{"a":1}')).length + HEADER_BYTES + 3]! ^= 0x01
    const result = scanRecords(middle)
    expect(E.isLeft(result)).toBe(true)
    if (E.isLeft(result)) expect(result.left).toMatch(/corrupt, not torn/)
    // A broken length field in the first record: the good ones after it are still found.
    const length = Buffer.from(three)
    length.writeUInt32LE(1_000_000, 0)
    expect(E.isLeft(scanRecords(length))).toBe(true)
  })
})
