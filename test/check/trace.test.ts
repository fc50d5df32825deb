import { describe, expect, it } from 'vitest'
import { Trace, formatItem } from '../../src/check/trace'
import type { ClientReply, NodeId } from '../../src/domain/wire'

describe("a failure's trace", () => {
  const reply = { src: '0001' as NodeId, dst: '0013' as NodeId, leader: '0001' as NodeId, type: 'ok', MID: 'M7', value: 'v9' } as ClientReply

  it('writes a client reply when printed, as a note would', () => {
    expect(formatItem({ kind: 'reply', at: 15_167, message: reply })).toBe('t=  15167 ** client 0013 gets ok 0001->0013 (leader 0001) M7 value v9')
  })

  it('keeps the last items in order, the oldest first', () => {
    const trace = new Trace(2)
    trace.add({ kind: 'note', at: 1, text: 'first' })
    trace.add({ kind: 'reply', at: 2, message: reply })
    trace.add({ kind: 'note', at: 3, text: 'third' })
    expect(trace.format().split('\n')).toEqual(['t=      2 ** client 0013 gets ok 0001->0013 (leader 0001) M7 value v9', 't=      3 ** third'])
  })
})
