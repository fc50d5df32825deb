/**
 * Measures the simulator's per-datagram routing overhead. Reports numbers; asserts nothing.
 *   npm run bench:router -- [--datagrams N] [--round-trips N]  (src/cli/bench-router.ts)
 * 1. The pure core: Simulation.onDatagram (UTF-8 check, JSON parse, field checks, routing decision).
 * 2. Through UDP: ping-pong between two sockets directly, then through two simulator sockets with
 *    the same event-driven forwarding as the runner; the difference is the cost of one routed hop.
 */
import * as dgram from 'dgram'
import { AddressInfo } from 'net'
import { randomStreams } from './prng'
import { decodeScenario } from './scenario'
import { Simulation } from './simulation'
import { createRoutingSocket } from './socket-buffers'

const scenario = decodeScenario('bench-router', {
  lifetime: 5, replicas: 5, requests: 1, max_packets: Number.MAX_SAFE_INTEGER,
  tests: { benchmarks: { total_msgs: [0, 0, 0], failures: [0, 0, 0], duplicates: [0, 0, 0], median_latency: [0, 0, 0] } },
})

function helloAll(sim: Simulation): void {
  for (const id of sim.replicas) sim.onDatagram(id, Buffer.from(JSON.stringify({ src: id, dst: 'FFFF', leader: 'FFFF', type: 'hello' })), 0)
}

function benchCore(datagrams: number): { unicastNs: number; broadcastNs: number } {
  const sim = new Simulation(scenario, randomStreams(1))
  helloAll(sim)
  const entries = Array.from({ length: 20 }, (_, i) => ({ term: 3, index: i, key: 'k'.repeat(32), value: 'v'.repeat(32) }))
  const unicast = Buffer.from(JSON.stringify({ src: '0000', dst: '0001', leader: '0000', type: 'append', term: 3, entries }))
  const broadcast = Buffer.from(JSON.stringify({ src: '0000', dst: 'FFFF', leader: '0000', type: 'append', term: 3, entries }))
  const time = (bytes: Buffer): number => {
    for (let i = 0; i < 1000; i++) sim.onDatagram('0000', bytes, 0) // warm-up
    const started = process.hrtime.bigint()
    for (let i = 0; i < datagrams; i++) sim.onDatagram('0000', bytes, 0)
    return Number(process.hrtime.bigint() - started) / datagrams
  }
  return { unicastNs: time(unicast), broadcastNs: time(broadcast) }
}

const bind = (socket = dgram.createSocket('udp4')): Promise<dgram.Socket> =>
  new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => resolve(socket))
  })
const portOf = (socket: dgram.Socket): number => (socket.address() as AddressInfo).port

/** Average microseconds per round trip: a sends to aTarget, b echoes to bTarget. */
async function pingPong(a: dgram.Socket, b: dgram.Socket, aTarget: number, bTarget: number, roundTrips: number, payload: Buffer): Promise<number> {
  b.removeAllListeners('message')
  a.removeAllListeners('message')
  b.on('message', (bytes) => b.send(bytes, bTarget, '127.0.0.1'))
  return new Promise((resolve) => {
    let left = roundTrips + 200 // 200 warm-up trips
    let started = 0n
    a.on('message', () => {
      left--
      if (left === roundTrips) started = process.hrtime.bigint()
      if (left === 0) resolve(Number(process.hrtime.bigint() - started) / 1000 / roundTrips)
      else a.send(payload, aTarget, '127.0.0.1')
    })
    a.send(payload, aTarget, '127.0.0.1')
  })
}

async function benchSockets(roundTrips: number): Promise<{ directUs: number; routedUs: number }> {
  const [replicaA, replicaB, simA, simB] = await Promise.all([bind(), bind(), bind(createRoutingSocket()), bind(createRoutingSocket())])
  try {
    // Echo packets carry src/dst so the routed path runs the real decision logic both ways.
    const toB = Buffer.from(JSON.stringify({ src: '0000', dst: '0001', leader: '0000', type: 'ping' }))
    const toA = Buffer.from(JSON.stringify({ src: '0001', dst: '0000', leader: '0000', type: 'pong' }))
    const directUs = await pingPong(replicaA, replicaB, portOf(replicaB), portOf(replicaA), roundTrips, toB)

    const sim = new Simulation(scenario, randomStreams(1))
    const sockets = new Map([['0000', simA], ['0001', simB]])
    const addresses = new Map([['0000', portOf(replicaA)], ['0001', portOf(replicaB)]])
    helloAll(sim)
    for (const [id, socket] of sockets) {
      socket.on('message', (bytes) => {
        for (const effect of sim.onDatagram(id, bytes, 0)) {
          if (effect.type === 'send' && sockets.has(effect.to)) sockets.get(effect.to)!.send(effect.bytes, addresses.get(effect.to)!, '127.0.0.1')
        }
      })
    }
    // replicaB answers with a pong addressed to 0000, through its simulator socket.
    replicaB.removeAllListeners('message')
    replicaA.removeAllListeners('message')
    replicaB.on('message', () => replicaB.send(toA, portOf(simB), '127.0.0.1'))
    const routedUs = await new Promise<number>((resolve) => {
      let left = roundTrips + 200
      let started = 0n
      replicaA.on('message', () => {
        left--
        if (left === roundTrips) started = process.hrtime.bigint()
        if (left === 0) resolve(Number(process.hrtime.bigint() - started) / 1000 / roundTrips)
        else replicaA.send(toB, portOf(simA), '127.0.0.1')
      })
      replicaA.send(toB, portOf(simA), '127.0.0.1')
    })
    return { directUs, routedUs }
  } finally {
    for (const socket of [replicaA, replicaB, simA, simB]) socket.close()
  }
}

export async function benchRouter(datagrams = 100_000, roundTrips = 5_000) {
  const core = benchCore(datagrams)
  const sockets = await benchSockets(roundTrips)
  return { ...core, ...sockets, perHopUs: (sockets.routedUs - sockets.directUs) / 2 }
}
