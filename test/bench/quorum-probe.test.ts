/**
 * The two quorum probes (bench/probes: the Node one and its Python twin) must be the same
 * instrument: replica 0000 answers a put only after a majority of pongs, every other replica
 * redirects clients and answers pings. Each probe process is driven here through a socket that
 * plays the simulator. Bounds are generous: this checks behaviour, not speed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as dgram from 'node:dgram'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const REPO = path.resolve(__dirname, '../..')
const PEERS = ['0001', '0002', '0003', '0004']
const CLIENT = '0015'

const PROBES = [
  { name: 'Node', program: path.join(REPO, 'bench/probes/quorum-probe-node') },
  { name: 'Python', program: path.join(REPO, 'bench/probes/quorum-probe.py') },
]

type Datagram = Record<string, string>

/** One probe process and the simulator's socket for it. */
class FakeSimulator {
  private readonly socket = dgram.createSocket('udp4')
  private probe: ChildProcess | undefined
  private probePort = 0
  private readonly received: Datagram[] = []
  private wake: (() => void) | undefined

  async start(program: string, id: string, peers: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Datagram> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve))
    this.socket.on('message', (bytes, from) => {
      this.probePort = from.port
      this.received.push(JSON.parse(bytes.toString('utf8')) as Datagram)
      this.wake?.()
    })
    this.probe = spawn(program, [String(this.socket.address().port), id, ...peers], {
      stdio: 'ignore',
      env: { ...process.env, ...env },
    })
    return this.next()
  }

  send(message: Datagram): void {
    this.socket.send(JSON.stringify(message), this.probePort, '127.0.0.1')
  }

  /** The next datagram from the probe, waiting up to `timeoutMs`; undefined if none came. */
  async next(timeoutMs = 10_000): Promise<Datagram> {
    const message = await this.maybeNext(timeoutMs)
    if (message === undefined) throw new Error('the probe sent nothing')
    return message
  }

  async maybeNext(timeoutMs: number): Promise<Datagram | undefined> {
    if (this.received.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = undefined
    }
    return this.received.shift()
  }

  stop(): void {
    this.probe?.kill()
    this.socket.close()
  }
}

describe.each(PROBES)('the $name quorum probe', ({ program }) => {
  let sim: FakeSimulator
  afterEach(() => sim.stop())

  it('as 0000 answers a put only once a majority (two of four peers) has answered its pings', async () => {
    sim = new FakeSimulator()
    expect(await sim.start(program, '0000', PEERS)).toMatchObject({ src: '0000', type: 'hello' })
    sim.send({ src: CLIENT, dst: '0000', leader: 'FFFF', type: 'put', MID: 'm1', key: 'k', value: 'v' })
    const pings = [await sim.next(), await sim.next()]
    expect(pings.map((p) => [p['dst'], p['type'], p['MID']])).toEqual([
      ['0001', 'ping', 'm1'],
      ['0002', 'ping', 'm1'],
    ])
    sim.send({ src: '0001', dst: '0000', leader: '0000', type: 'pong', MID: 'm1' })
    expect(await sim.maybeNext(300)).toBeUndefined()
    sim.send({ src: '0002', dst: '0000', leader: '0000', type: 'pong', MID: 'm1' })
    expect(await sim.next()).toMatchObject({ src: '0000', dst: CLIENT, leader: '0000', type: 'ok', MID: 'm1' })
    sim.send({ src: CLIENT, dst: '0000', leader: '0000', type: 'get', MID: 'm2', key: 'k' })
    expect(await sim.next()).toMatchObject({ dst: CLIENT, type: 'ok', MID: 'm2', value: 'v' })
  })

  it('as 0000 with QUORUM_PROBE=broadcast sends one ping to FFFF', async () => {
    sim = new FakeSimulator()
    await sim.start(program, '0000', PEERS, { QUORUM_PROBE: 'broadcast' })
    sim.send({ src: CLIENT, dst: '0000', leader: 'FFFF', type: 'put', MID: 'm1', key: 'k', value: 'v' })
    expect(await sim.next()).toMatchObject({ dst: 'FFFF', type: 'ping', MID: 'm1' })
    expect(await sim.maybeNext(300)).toBeUndefined()
  })

  it('as another replica redirects clients to 0000 and answers pings', async () => {
    sim = new FakeSimulator()
    await sim.start(program, '0003', ['0000', '0001', '0002', '0004'])
    sim.send({ src: CLIENT, dst: '0003', leader: 'FFFF', type: 'get', MID: 'm1', key: 'k' })
    expect(await sim.next()).toMatchObject({ src: '0003', dst: CLIENT, leader: '0000', type: 'redirect', MID: 'm1' })
    sim.send({ src: '0000', dst: '0003', leader: '0000', type: 'ping', MID: 'm2' })
    expect(await sim.next()).toMatchObject({ src: '0003', dst: '0000', type: 'pong', MID: 'm2' })
  })
})
