/**
 * The real cluster's transport between replicas, on loopback: a message reaches the peer it is
 * addressed to, and one addressed to all (a candidate's vote request) reaches every peer, as the
 * course's simulator delivers a broadcast.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { BROADCAST, UNKNOWN_LEADER, type Message, type NodeId } from '../../src/domain/wire'
import { PeerTransport } from '../../src/runtime/net/tcp-transport'

const LOOPBACK = { host: '127.0.0.1', port: 0 }
const open: PeerTransport[] = []

afterEach(() => {
  for (const transport of open.splice(0)) transport.close()
})

/** A transport that keeps what it receives. */
const transport = (): { transport: PeerTransport; received: Message[] } => {
  const received: Message[] = []
  const made = new PeerTransport(new Map(), { now: () => Date.now(), onMessage: (m) => received.push(m), trace: undefined })
  open.push(made)
  return { transport: made, received }
}

/** Waits (generously: real sockets on a busy machine) until `done` holds. */
const eventually = async (done: () => boolean, ms = 20_000): Promise<void> => {
  const until = Date.now() + ms
  while (!done() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20))
}

describe('PeerTransport on loopback', () => {
  it('delivers a message to the peer it names, and one addressed to all to every peer', async () => {
    const [a, b, c] = [transport(), transport(), transport()]
    const [, addressB, addressC] = await Promise.all([a, b, c].map(({ transport: t }) => t.listen(LOOPBACK)))
    a.transport.addPeer('0001' as NodeId, addressB!)
    a.transport.addPeer('0002' as NodeId, addressC!)

    const hello: Message = { src: '0000' as NodeId, dst: BROADCAST, leader: UNKNOWN_LEADER, type: 'hello' }
    expect(a.transport.send(hello)).toBe(true)
    const toB: Message = { ...hello, dst: '0001' as NodeId }
    expect(a.transport.send(toB)).toBe(true)
    expect(a.transport.send({ ...hello, dst: '0009' as NodeId })).toBe(false)

    await eventually(() => b.received.length >= 2 && c.received.length >= 1)
    expect(b.received).toEqual([hello, toB])
    expect(c.received).toEqual([hello])
  })
})
