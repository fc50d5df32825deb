/** The checkers' clients (src/check/virtual-clients.ts): the protocol's client rules, and what they record. */
import { describe, expect, it } from 'vitest'
import { Clients, type Route } from '../../src/check/virtual-clients'
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

// A put that a crash touched before its ok is pending, and linearizability (Herlihy and Wing) judges
// a history extended by completing some pending invocations and dropping the rest: a pending put may
// take effect at any point after its invocation. The course's stricter rule cannot hold for it: the
// replica that restarts with it in its log applies it unanswered (issue 29: it answers only
// requests of its current life).
describe('Clients: puts a crash touched before their ok', () => {
  /** k=v acknowledged; then p2 (k=v2) sent to R0, which crashes. */
  const withOrphanedPut = () => {
    const clients = new Clients([C])
    clients.reply(2, ok(clients.invoke(1, C, 'put', 'k', 'v', toR0).MID), toR0)
    const p2 = clients.invoke(3, C, 'put', 'k', 'v2', toR0)
    return { clients, p2 }
  }

  it('a get may see a put whose attempt was lost with a crashed replica, never answered', () => {
    const { clients } = withOrphanedPut()
    clients.orphanAttemptsTo(R0)
    const get = clients.invoke(4, C, 'get', 'k', undefined, toR0)
    expect(clients.reply(5, ok(get.MID, 'v2'), toR0)).toEqual({})
  })

  it('a get may see a put a crashed replica had in its stored log', () => {
    const { clients, p2 } = withOrphanedPut()
    clients.storedAtCrash([{ MID: p2.MID }])
    const get = clients.invoke(4, C, 'get', 'k', undefined, toR0)
    expect(clients.reply(5, ok(get.MID, 'v2'), toR0)).toEqual({})
  })

  it('without a crash, a get that sees a put before its ok is still a violation (the course\'s rule)', () => {
    const { clients } = withOrphanedPut()
    const get = clients.invoke(4, C, 'get', 'k', undefined, toR0)
    expect(clients.reply(5, ok(get.MID, 'v2'), toR0).violation?.invariant).toBe('Get returns the latest acknowledged put')
  })

  it('a crash does not make an older acknowledged value readable again', () => {
    const { clients } = withOrphanedPut()
    clients.orphanAttemptsTo(R0)
    const p3 = clients.invoke(4, C, 'put', 'k', 'v3', toR0)
    clients.reply(5, ok(p3.MID), toR0)
    const get = clients.invoke(6, C, 'get', 'k', undefined, toR0)
    expect(clients.reply(7, ok(get.MID, 'v'), toR0).violation?.invariant).toBe('Get returns the latest acknowledged put')
  })

  it('a late ok of such a put after a later put\'s ok does not displace it: both orders are linearizable', () => {
    const { clients, p2 } = withOrphanedPut()
    clients.orphanAttemptsTo(R0)
    const p3 = clients.invoke(4, C, 'put', 'k', 'v3', toR0)
    clients.reply(5, ok(p3.MID), toR0)
    expect(clients.reply(6, ok(p2.MID), toR0)).toEqual({})
    for (const value of ['v3', 'v2']) {
      const get = clients.invoke(7, C, 'get', 'k', undefined, toR0)
      expect(clients.reply(8, ok(get.MID, value), toR0)).toEqual({})
    }
  })

  it('a late ok with no later put answered in between makes it the latest, as the course says', () => {
    const { clients, p2 } = withOrphanedPut()
    clients.orphanAttemptsTo(R0)
    clients.reply(4, ok(p2.MID), toR0)
    const get = clients.invoke(5, C, 'get', 'k', undefined, toR0)
    expect(clients.reply(6, ok(get.MID, 'v'), toR0).violation?.invariant).toBe('Get returns the latest acknowledged put')
  })
})
