/**
 * The record frame: length, CRC-32, kind, payload. A torn last record (one that runs past the end of
 * the file or has a sector of zeros) is cut; any other bad record is corruption.
 */
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { frameRecord, HEADER_BYTES, scanRecords, SECTOR_BYTES, type ScannedFile } from '../../src/runtime/record-file'

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

  it('refuses a complete last record with one flipped bit: corruption, not a torn write', () => {
    // Every bit of the last record's body and CRC, one at a time (etcd's rule: torn only when it
    // runs past the end of the file or a sector of it is all zeros).
    const lastLength = frameRecord(2, text('')).length
    for (let byte = three.length - lastLength + 4; byte < three.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(three)
        flipped[byte]! ^= 1 << bit
        const result = scanRecords(flipped)
        expect(E.isLeft(result), `byte ${byte} bit ${bit}`).toBe(true)
        if (E.isLeft(result)) expect(result.left).toMatch(new RegExp(`record at byte ${three.length - lastLength} is complete and fails its checksum.*corrupt, not torn`))
      }
    }
  })

  it('cuts a tail of zeros (no record in it), and a last record with a sector of zeros', () => {
    const zeros = scanned(Buffer.concat([three, Buffer.alloc(4096)]))
    expect(zeros.records).toHaveLength(3)
    expect(zeros.tornBytes).toBe(4096)
    expect(zeros.torn).toMatchObject({ offset: three.length, bytes: 4096, records: 0 })
    // A record of 2,000 bytes whose second sector never reached the disk: whole in length, torn.
    const big = frameRecord(2, text('x'.repeat(2_000)))
    const whole = Buffer.concat([three, big])
    const sector = Math.ceil(three.length / SECTOR_BYTES) * SECTOR_BYTES
    whole.fill(0, sector, sector + SECTOR_BYTES)
    const file = scanned(whole)
    expect(file.records).toHaveLength(3)
    expect(file.torn).toMatchObject({ offset: three.length, bytes: big.length, records: 1, why: expect.stringMatching(/sector of zeros/) })
    // The same record with a byte flipped instead: corruption.
    const flipped = Buffer.concat([three, big])
    flipped[sector + 10]! ^= 0x01
    expect(E.isLeft(scanRecords(flipped))).toBe(true)
  })

  it('says what a torn record lacks', () => {
    const last = frameRecord(2, text('{"entries":["x","y"]}'))
    const short = scanned(Buffer.concat([three, last.subarray(0, 12)]))
    expect(short.torn).toEqual({
      offset: three.length,
      bytes: 12,
      records: 1,
      why: `the record at byte ${three.length} claims ${last.length - HEADER_BYTES} bytes after its header and 4 are there`,
    })
    expect(scanned(Buffer.concat([three, last.subarray(0, 5)])).torn?.why).toMatch(/has 5 of its 8 header bytes/)
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
