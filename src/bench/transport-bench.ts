/**
 * `node dist/src/bench/transport-bench.js [--seconds S]`: what the real cluster's transport choice
 * rests on (BENCHMARKS.md, "The real cluster's transport"), measured between two sockets of this
 * Node process on loopback: an echo round trip of one message as UDP datagrams and as TCP frames
 * (net/tcp-transport.ts's framing), and a burst of 64 messages (a batch of AppendEntries and their
 * answers) each way, in a closed loop, for S seconds each.
 */
import * as dgram from 'node:dgram'
import * as net from 'node:net'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import { FrameReader } from '../runtime/net/frames'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

const MESSAGE = Buffer.from(JSON.stringify({ src: '0001', dst: '0002', leader: '0001', type: 'append', term: 3, prevLogIndex: 10, prevLogTerm: 3, entries: [{ term: 3, command: { op: 'put', key: 'key-0001', value: 'x'.repeat(100), client: 'FF00', MID: '6f1c1d5e-8f4e-4a43-9a3b-3c2f0b9d1e77' } }], leaderCommit: 9, sentAt: 1234.5 }))
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 3

interface Link {
  /** Sends `count` messages and resolves when `count` echoes are back. */
  burst(count: number): Promise<void>
  close(): void
}

const udpLink = async (): Promise<Link> => {
  const a = dgram.createSocket('udp4')
  const b = dgram.createSocket('udp4')
  await Promise.all([new Promise<void>((r) => a.bind(0, '127.0.0.1', r)), new Promise<void>((r) => b.bind(0, '127.0.0.1', r))])
  for (const s of [a, b]) s.setRecvBufferSize(4 * 1024 * 1024)
  b.on('message', (bytes, from) => b.send(bytes, from.port, from.address))
  a.connect(b.address().port, '127.0.0.1')
  await new Promise<void>((r) => a.once('connect', r))
  let waiting = 0
  let done: (() => void) | undefined
  a.on('message', () => {
    if (--waiting === 0) done?.()
  })
  return {
    burst: (count) =>
      new Promise<void>((resolve) => {
        waiting = count
        done = resolve
        for (let i = 0; i < count; i++) a.send(MESSAGE)
      }),
    close: () => {
      a.close()
      b.close()
    },
  }
}

const framed = (body: Buffer): Buffer => {
  const header = Buffer.allocUnsafe(4)
  header.writeUInt32BE(body.length, 0)
  return Buffer.concat([header, body])
}

const tcpLink = async (): Promise<Link> => {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true)
    const reader = new FrameReader()
    socket.on('data', (chunk: Buffer) => {
      socket.cork()
      const read = reader.push(chunk, (frame) => socket.write(framed(frame)))
      socket.uncork()
      if (E.isLeft(read)) socket.destroy()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  client.setNoDelay(true)
  await new Promise<void>((r) => client.once('connect', r))
  const reader = new FrameReader()
  let waiting = 0
  let done: (() => void) | undefined
  client.on('data', (chunk: Buffer) => {
    reader.push(chunk, () => {
      if (--waiting === 0) done?.()
    })
  })
  const frame = framed(MESSAGE)
  return {
    burst: (count) =>
      new Promise<void>((resolve) => {
        waiting = count
        done = resolve
        client.cork()
        for (let i = 0; i < count; i++) client.write(frame)
        client.uncork()
      }),
    close: () => {
      client.destroy()
      server.close()
    },
  }
}

const run = async (name: string, link: Link, count: number): Promise<void> => {
  const times: number[] = []
  const end = performance.now() + seconds * 1000
  while (performance.now() < end) {
    const began = performance.now()
    await link.burst(count)
    times.push(performance.now() - began)
  }
  const sorted = sortedAscending(times)
  const total = times.reduce((a, b) => a + b, 0) / 1000
  console.log(
    `${name.padEnd(4)} ${String(count).padStart(2)} message(s) a round: ${Math.round((times.length * count) / total).toLocaleString('en-US').padStart(8)} messages/s echoed, round p50 ${(quantileOfSorted(sorted, 0.5)! * 1000).toFixed(0)} µs, p99 ${(quantileOfSorted(sorted, 0.99)! * 1000).toFixed(0)} µs`,
  )
}

const main = async (): Promise<void> => {
  console.log(`${MESSAGE.length}-byte messages (an AppendEntries with one 100-byte put), ${seconds} s each, loopback`)
  for (const count of [1, 64]) {
    const udp = await udpLink()
    await run('udp', udp, count)
    udp.close()
    const tcp = await tcpLink()
    await run('tcp', tcp, count)
    tcp.close()
  }
}

void main()
