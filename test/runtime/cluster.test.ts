/**
 * Five real `3700kvstore` processes behind a small UDP router that plays the simulator's part:
 * it waits for the hellos, routes replica datagrams by `dst` (FFFF to every other replica), and
 * acts as one client. Bounds are generous: this checks behaviour, not speed.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as dgram from 'node:dgram'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const REPO = path.resolve(__dirname, '../..')
const IDS = ['0000', '0001', '0002', '0003', '0004']
const CLIENT = '0015'

interface Reply {
  readonly type: string
  readonly MID: string
  readonly leader: string
  readonly value?: string
}

class Router {
  readonly sockets = new Map<string, dgram.Socket>()
  readonly addresses = new Map<string, dgram.RemoteInfo>()
  readonly processes: ChildProcess[] = []
  readonly replies: Reply[] = []
  private waiters: Array<() => void> = []

  async start(): Promise<void> {
    for (const id of IDS) {
      const socket = dgram.createSocket('udp4')
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
      socket.on('message', (bytes, from) => this.onDatagram(id, socket, bytes, from))
      this.sockets.set(id, socket)
    }
    for (const id of IDS) {
      const port = this.sockets.get(id)!.address().port
      const child = spawn(path.join(REPO, '3700kvstore'), [String(port), id, ...IDS.filter((p) => p !== id)], {
        stdio: 'ignore',
        detached: true,
      })
      this.processes.push(child)
    }
  }

  private onDatagram(owner: string, socket: dgram.Socket, bytes: Buffer, from: dgram.RemoteInfo): void {
    const message = JSON.parse(bytes.toString('utf8'))
    if (message.type === 'hello') {
      this.addresses.set(owner, from)
      return this.wake()
    }
    if (message.dst === CLIENT) {
      this.replies.push(message)
      return this.wake()
    }
    const targets = message.dst === 'FFFF' ? IDS.filter((id) => id !== message.src) : [message.dst]
    for (const target of targets) this.deliver(target, bytes)
    void socket
  }

  deliver(target: string, bytes: Buffer): void {
    const address = this.addresses.get(target)
    if (address !== undefined) this.sockets.get(target)!.send(bytes, address.port, address.address)
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  async until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = probe()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error('timed out waiting')
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
  }

  /** Sends a request the way the simulator's client does, following redirects, until an ok. */
  async request(fields: Record<string, string>, timeoutMs: number): Promise<Reply> {
    let target = IDS[0]!
    let attempt = 0
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const MID = `${fields.type}-${attempt++}`.padEnd(16, 'x')
      const request = { src: CLIENT, dst: target, leader: 'FFFF', MID, ...fields }
      this.deliver(target, Buffer.from(JSON.stringify(request)))
      const reply = await this.until(() => this.replies.find((r) => r.MID === MID), Math.max(1, deadline - Date.now()))
      if (reply.type === 'ok') return reply
      // A redirect names the leader; with none known yet, try the next replica.
      target = reply.leader !== 'FFFF' ? reply.leader : IDS[(IDS.indexOf(target) + 1) % IDS.length]!
    }
    throw new Error('no ok before the deadline')
  }

  stop(): void {
    for (const child of this.processes) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
    for (const socket of this.sockets.values()) socket.close()
  }
}

describe('five real replicas behind a UDP router', () => {
  const router = new Router()
  afterAll(() => router.stop())

  it('say hello, elect a leader, and store and read back a value', async () => {
    await router.start()
    await router.until(() => (router.addresses.size === IDS.length ? true : undefined), 20_000)

    const key = 'k'.repeat(32)
    const value = 'a1'.repeat(16)
    const put = await router.request({ type: 'put', key, value }, 30_000)
    expect(put.type).toBe('ok')
    expect(IDS).toContain(put.leader)

    const get = await router.request({ type: 'get', key }, 30_000)
    expect(get).toMatchObject({ type: 'ok', value })
    // Every reply went to a MID we sent, once.
    const mids = router.replies.map((r) => r.MID)
    expect(new Set(mids).size).toBe(mids.length)
  })
})
