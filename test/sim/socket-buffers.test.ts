import { execFileSync } from 'child_process'
import * as dgram from 'dgram'
import * as fs from 'fs'
import { AddressInfo } from 'net'
import { describe, expect, it } from 'vitest'
import { createRoutingSocket, enlargeBuffers, kernelCharge, parseUdpDrops, receiveDrops, SOCKET_BUFFER_BYTES, udpTableRows } from '../../src/sim/socket-buffers'
import { COURSE_PACING } from '../../src/sim/pacing'

// Three sockets as Linux prints them: ports 0x97F1 (38897), 0xE6DA (59098) and 0x0035 (53).
const TABLE = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ',
  '  107: 0100007F:97F1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 198913 2 00000000a0c2393f 17       ',
  ' 3924: 0100007F:E6DA 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 200022 2 00000000c6ab6932 0        ',
  ' 5230: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 200023 2 000000004740b1ff 4        ',
  '',
].join('\n')

describe("kvsim's socket buffers", () => {
  it('read the drops column of /proc/net/udp for the given ports only', () => {
    const drops = parseUdpDrops(TABLE, new Set([38897, 59098, 1234]))
    expect([...drops.entries()]).toEqual([
      [38897, 17],
      [59098, 0],
    ])
  })

  it('find nothing in a table whose last column is not drops', () => {
    const header = TABLE.split('\n')[0]!.replace('drops', 'other')
    expect(parseUdpDrops([header, ...TABLE.split('\n').slice(1)].join('\n'), new Set([38897])).size).toBe(0)
  })

  it('ask the kernel for large buffers, and count no drops on a socket that keeps up', async () => {
    const receiver = dgram.createSocket('udp4')
    const sender = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve))
    try {
      enlargeBuffers(receiver)
      // Linux grants at most net.core.rmem_max; it is never below its default of about 200 KB.
      expect(receiver.getRecvBufferSize()).toBeGreaterThan(200 * 1024)
      expect(receiver.getRecvBufferSize()).toBeLessThanOrEqual(2 * SOCKET_BUFFER_BYTES)
      const port = (receiver.address() as AddressInfo).port
      let received = 0
      const all = new Promise<void>((resolve) => receiver.on('message', () => ++received === 10 && resolve()))
      for (let i = 0; i < 10; i++) sender.send(`datagram ${i}`, port, '127.0.0.1')
      await all
      // On Linux the socket is found in /proc/net/udp (else the count would be undefined).
      const drops = receiveDrops(new Set([port]))
      if (process.platform === 'linux') expect(drops).toBe(0)
      else expect(drops).toBeUndefined()
    } finally {
      receiver.close()
      sender.close()
    }
  })

  it.runIf(process.platform === 'linux')('count the datagrams the kernel drops into a socket whose buffer is full', async () => {
    const receiver = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve))
    try {
      receiver.setRecvBufferSize(4096)
      const port = (receiver.address() as AddressInfo).port
      expect(receiveDrops(new Set([port]))).toBe(0)
      // This process cannot read while execFileSync blocks it: a child sends 300 datagrams into a
      // buffer that holds a handful.
      const sendMany = `const s = require('dgram').createSocket('udp4'); let n = 0;
        const next = () => (n++ < 300 ? s.send('x'.repeat(200), ${port}, '127.0.0.1', next) : s.close()); next()`
      execFileSync(process.execPath, ['-e', sendMany])
      expect(receiveDrops(new Set([port]))).toBeGreaterThan(0)
    } finally {
      receiver.close()
    }
  })

  // The course's simulator sends each copy the moment it has checked it; kvsim's routing must too,
  // or every copy waits until the whole round of routing is done.
  it.runIf(process.platform === 'linux')('hand a routed copy to the kernel before send returns', async () => {
    const receiver = dgram.createSocket('udp4')
    const router = createRoutingSocket()
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve))
    await new Promise<void>((resolve) => router.bind(0, '127.0.0.1', resolve))
    try {
      const port = (receiver.address() as AddressInfo).port
      router.send('a copy', port, '127.0.0.1')
      // Still inside the same turn of the event loop: what the kernel has queued for the receiver.
      expect(receiveQueueBytes(port)).toBeGreaterThan(0)
    } finally {
      receiver.close()
      router.close()
    }
  })

  it('cannot say for a socket that is gone', async () => {
    const socket = dgram.createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const port = (socket.address() as AddressInfo).port
    await new Promise<void>((resolve) => socket.close(resolve))
    expect(receiveDrops(new Set([port]))).toBeUndefined()
  })

  // The measurement behind kernelCharge: datagrams of one size sent to a socket with the default
  // buffer (212,992 bytes) that read nothing; this many were kept. Linux admits a datagram while
  // what is queued is not over the buffer, so the last one may overshoot.
  it('kernelCharge makes as many datagrams fit in the default buffer as Linux kept', () => {
    const kept = (payload: number): number => {
      let queued = 0
      let count = 0
      while (queued <= COURSE_PACING.socketQueueBytes) {
        queued += kernelCharge(payload)
        count++
      }
      return count
    }
    const measured: [number, number][] = [[16, 256], [80, 256], [208, 166], [600, 166], [656, 92], [1000, 92], [1680, 48], [2400, 48], [3764, 25], [4000, 25], [7860, 12], [10_000, 12]]
    expect(measured.map(([payload]) => [payload, kept(payload)])).toEqual(measured)
    // Past the table the charge still grows with the payload.
    expect(kernelCharge(40_000)).toBeGreaterThan(kernelCharge(20_000))
    expect(kernelCharge(20_000)).toBeGreaterThan(kernelCharge(17_176))
  })
})

/** The rx_queue column of /proc/net/udp for the socket bound to `port` (hexadecimal bytes). */
function receiveQueueBytes(port: number): number {
  const row = udpTableRows(fs.readFileSync('/proc/net/udp', 'utf8')).find((socket) => socket.port === port)
  const queues = row?.fields[4]
  if (queues === undefined) throw new Error(`no socket bound to port ${port} in /proc/net/udp`)
  return Number.parseInt(queues.split(':')[1]!, 16)
}
