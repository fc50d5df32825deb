/** The checkers' clients (src/check/clients.ts): the protocol's client rules, and what they record. */
import { describe, expect, it } from 'vitest'
import { Clients, type Route } from '../../src/check/clients'
import type { ClientReply, NodeId } from '../../src/domain/wire'

const C = '0013' as NodeId
const R0 = '0000' as NodeId
const toR0: Route = () => R0
const ok = (MID: string, value?: string): ClientReply =>
  ({ src: R0, dst: C, leader: R0, type: 'ok', MID, ...(value === undefined ? {} : { value }) }) as ClientReply

/** A client that has put k=v and read it back once. */
const afterPutAndGet = () => {
  const clients = new Clients([C])
  const put = clients.invoke(1, C, 'put', 'k', 'v', toR0)
  expect(clients.reply(2, ok(put.MID), toR0)).toEqual({})
  const get = clients.invoke(3, C, 'get', 'k', undefined, toR0)
  expect(clients.reply(4, ok(get.MID, 'v'), toR0)).toEqual({})
  return { clients, getMid: get.MID, putMid: put.MID }
}

describe('Clients', () => {
  it('a get must read the latest put this client had acknowledged', () => {
    const clients = new Clients([C])
    const put = clients.invoke(1, C, 'put', 'k', 'v', toR0)
    clients.reply(2, ok(put.MID), toR0)
    const get = clients.invoke(3, C, 'get', 'k', undefined, toR0)
    expect(clients.reply(4, ok(get.MID, 'stale'), toR0).violation?.invariant).toBe('Get returns the latest acknowledged put')
  })

  it('counts a second ok as a duplicate, and accepts it when it repeats the value', () => {
    const { clients, getMid, putMid } = afterPutAndGet()
    expect(clients.reply(5, ok(putMid), toR0)).toEqual({})
    expect(clients.reply(6, ok(getMid, 'v'), toR0)).toEqual({})
    expect(clients.duplicates).toBe(2)
  })

  it('a get answered again with another value is a violation', () => {
    const { clients, getMid } = afterPutAndGet()
    expect(clients.reply(5, ok(getMid, 'other'), toR0).violation?.detail).toMatch(/answered again .* with other, first with v/)
  })

  it('a redirect makes the client try again under a new MID; a second reply to the redirected MID is a violation', () => {
    const clients = new Clients([C])
    const get = clients.invoke(1, C, 'get', 'k', undefined, toR0)
    const redirected = clients.reply(2, { src: R0, dst: C, leader: R0, type: 'redirect', MID: get.MID } as ClientReply, toR0)
    expect(redirected.retry?.MID).toBeDefined()
    expect(redirected.retry?.MID).not.toBe(get.MID)
    expect(clients.reply(3, ok(get.MID, ''), toR0).violation).toBeDefined()
  })

  it('records each operation with the order in which it was invoked and completed', () => {
    const { clients } = afterPutAndGet()
    const [put, get] = clients.history()
    expect([put!.invokedSeq, put!.completedSeq, get!.invokedSeq, get!.completedSeq]).toEqual([1, 2, 3, 4])
    expect(get!.value).toBe('v')
  })
})
