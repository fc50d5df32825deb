import { describe, expect, it } from 'vitest'
import { randomStreams } from '../../src/sim/prng'
import { Effect, Simulation } from '../../src/sim/simulation'
import { bytes, shortScenario } from './helpers'

const hello = (id: string) => bytes({ src: id, dst: 'FFFF', leader: 'FFFF', type: 'hello' })

function started(overrides: Record<string, unknown> = {}): Simulation {
  const sim = new Simulation(shortScenario(overrides), randomStreams(1))
  for (const id of sim.replicas) sim.onDatagram(id, hello(id), 0)
  return sim
}

const sends = (effects: Effect[]) => effects.filter((e) => e.type === 'send').map((e) => (e as { to: string }).to)

describe('Simulation', () => {
  it('routes a replica datagram, counts it and delivers the exact bytes', () => {
    const sim = started()
    const datagram = bytes('{"src":"0000","dst":"0001","leader":"0000","type":"append","x":1}')
    const effects = sim.onDatagram('0000', datagram, 1)
    expect(effects).toEqual([{ type: 'send', to: '0001', bytes: datagram }])
    expect(sim.network.totalMsgs).toBe(1)
    expect(sim.leader).toBe('0000')
  })

  it('a hello is not counted, routed or used for leader tracking', () => {
    const sim = new Simulation(shortScenario(), randomStreams(1))
    expect(sim.onDatagram('0000', bytes({ src: '0000', dst: 'FFFF', leader: '0003', type: 'hello' }), 0)).toEqual([{ type: 'hello', replica: '0000' }])
    expect(sim.network.totalMsgs).toBe(0)
    expect(sim.leader).toBe('FFFF')
  })

  it('a datagram routed to a replica before its hello makes it die', () => {
    const sim = new Simulation(shortScenario(), randomStreams(1))
    sim.onDatagram('0000', hello('0000'), 0)
    const effects = sim.onDatagram('0000', bytes({ src: '0000', dst: '0001', leader: 'FFFF', type: 'vote' }), 0.1)
    expect(sends(effects)).toEqual([])
    expect(sim.died.map((d) => d.replica)).toEqual(['0001'])
    expect(sim.living()).not.toContain('0001')
    // Later deliveries reach it once it has said hello, but it stays dead for the run.
    sim.onDatagram('0001', hello('0001'), 0.2)
    expect(sends(sim.onDatagram('0000', bytes({ src: '0000', dst: '0001', leader: 'FFFF', type: 'vote' }), 0.3))).toEqual(['0001'])
    expect(sim.living()).not.toContain('0001')
  })

  it('an empty or non-UTF-8 datagram closes the replica, which counts as died', () => {
    const sim = started()
    expect(sim.onDatagram('0002', Buffer.alloc(0), 1)).toEqual([{ type: 'close', replica: '0002' }])
    sim.onDatagram('0003', Buffer.from([0xff, 0xfe, 0x00]), 1)
    expect(sim.died.map((d) => d.replica)).toEqual(['0002', '0003'])
  })

  it('flags malformed datagrams and unknown destinations as incorrect', () => {
    const sim = started()
    sim.onDatagram('0000', bytes('not json'), 1)
    sim.onDatagram('0000', bytes('[1,2]'), 1)
    sim.onDatagram('0000', bytes({ src: '0000', dst: '0001', type: 'x' }), 1)
    sim.onDatagram('0000', bytes({ src: '0000', dst: '01', leader: 'FFFF', type: 'x' }), 1)
    sim.onDatagram('0000', bytes({ src: '0000', dst: '0100', leader: 'FFFF', type: 'x' }), 1)
    sim.onDatagram('0000', bytes({ src: '0000', dst: '000a', leader: 'FFFF', type: 'x' }), 1)
    expect(sim.incorrect).toHaveLength(6)
    expect(sim.network.totalMsgs).toBe(0)
  })

  it('plays a client request and its reply end to end', () => {
    const sim = started()
    const [request] = sim.onRequestDue(2)
    if (request?.type !== 'send') throw new Error('expected a send')
    const message = JSON.parse(request.bytes.toString())
    const reply = { src: request.to, dst: message.src, leader: request.to, type: 'ok', MID: message.MID }
    expect(sim.onDatagram(request.to, bytes(reply), 2.001)).toEqual([])
    expect(sim.clients.counters.okPuts).toBe(1)
    expect(sim.leader).toBe(request.to)
    expect(sim.network.totalMsgs).toBe(0) // client traffic is never counted
  })

  it('kill_leader kills the tracked leader and everyone forgets it', () => {
    const sim = started()
    sim.onDatagram('0002', bytes({ src: '0002', dst: 'FFFF', leader: '0002', type: 'heartbeat' }), 1)
    const effects = sim.onEvent('kill_leader', 3)
    expect(effects).toEqual([{ type: 'kill', replica: '0002' }])
    expect(sim.leader).toBe('FFFF')
    expect(sim.living()).not.toContain('0002')
    // Anything sent to it now is lost.
    expect(sends(sim.onDatagram('0000', bytes({ src: '0000', dst: '0002', leader: 'FFFF', type: 'v' }), 4))).toEqual([])
    expect(sim.lostToClosedSockets).toBe(1)
  })

  it('kill_non_leader never kills the leader', () => {
    const sim = started()
    sim.onDatagram('0001', bytes({ src: '0001', dst: 'FFFF', leader: '0001', type: 'heartbeat' }), 1)
    for (let i = 0; i < 4; i++) sim.onEvent('kill_non_leader', 2 + i)
    expect(sim.living()).toEqual(['0001'])
    expect(sim.onEvent('kill_non_leader', 9)).toEqual([])
  })

  it('part_easy keeps the leader on the majority side; part_hard forgets the leader', () => {
    const sim = started()
    sim.onDatagram('0004', bytes({ src: '0004', dst: 'FFFF', leader: '0004', type: 'heartbeat' }), 1)
    sim.onEvent('part_easy', 2)
    expect(sim.network.majoritySide()!.has('0004')).toBe(true)
    expect(sim.leader).toBe('0004')
    sim.onEvent('part_hard', 3)
    expect(sim.network.majoritySide()!.size).toBe(3)
    expect(sim.leader).toBe('FFFF')
    sim.onEvent('part_end', 4)
    expect(sim.network.partitioned).toBe(false)
  })

  it('stops on a packet storm', () => {
    // The course's simulator allows max_packets from the number of requests up.
    const sim = started({ requests: 8, max_packets: 8 })
    const effects = [0, 1].flatMap(() => sim.onDatagram('0000', bytes({ src: '0000', dst: 'FFFF', leader: 'FFFF', type: 'v' }), 1))
    expect(effects.some((e) => e.type === 'stop')).toBe(true)
    expect(sim.stopped).toBe(true)
  })

  it('a leader field naming a client is incorrect', () => {
    const sim = started()
    sim.onDatagram('0000', bytes({ src: '0000', dst: '0001', leader: '0015', type: 'v' }), 1)
    expect(sim.incorrect).toHaveLength(1)
  })

  it('restart (kvsim\'s own event) brings back the replica killed longest ago; it lives again once it says hello', () => {
    const sim = started()
    sim.onDatagram('0000', bytes({ src: '0000', dst: '0001', leader: '0000', type: 'append' }), 0.5)
    expect(sim.onEvent('kill_leader', 1)).toEqual([{ type: 'kill', replica: '0000' }])
    const second = sim.onEvent('kill_non_leader', 2)
    const victim = (second[0] as { replica: string }).replica
    expect(sim.isDown('0000') && sim.isDown(victim)).toBe(true)

    expect(sim.onEvent('restart', 3)).toEqual([{ type: 'restart', replica: '0000' }])
    expect(sim.isDown('0000')).toBe(false)
    // Before its new hello: what is routed to it is lost, and it does not die for it.
    expect(sends(sim.onDatagram('0001', bytes({ src: '0001', dst: '0000', leader: 'FFFF', type: 'vote' }), 3.1))).toEqual([])
    expect(sim.lostBeforeRestartHello).toBe(1)
    expect(sim.died).toEqual([])
    expect(sim.living()).not.toContain('0000')
    sim.onDatagram('0000', hello('0000'), 3.2)
    expect(sim.living()).toContain('0000')
    expect(sends(sim.onDatagram('0001', bytes({ src: '0001', dst: '0000', leader: 'FFFF', type: 'vote' }), 3.3))).toEqual(['0000'])

    expect(sim.onEvent('restart', 4)).toEqual([{ type: 'restart', replica: victim }])
    expect(sim.onEvent('restart', 5)).toEqual([])
    expect(sim.firedEvents.map((e) => e.detail).slice(-3)).toEqual(['restarted 0000', `restarted ${victim}`, 'no killed replica to restart'])
  })
})
