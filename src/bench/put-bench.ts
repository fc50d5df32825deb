/**
 * `npm run bench:put`: puts per second and put latency of a real cluster, in memory or on disk.
 * Five `3700kvstore` processes behind an in-process UDP router that delivers every datagram at once
 * (no drops, no pacing: the replica's own cost, not the course simulator's), and `--clients C`
 * closed-loop clients: each sends its next put as soon as the last one is answered, to the leader
 * it was last told of. Counted after a one-second warm-up, for `--seconds S`.
 *
 * The command is src/cli/bench-put.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as dgram from 'node:dgram'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { repoRoot } from '../sim/paths'
import { quantileOfSorted, sortedAscending } from '../stats/quantile'

const IDS = ['0000', '0001', '0002', '0003', '0004']
const FIRST_CLIENT = 0x15

export interface PutBenchOptions {
  readonly data: boolean
  readonly clients: number
  readonly seconds: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const runPutBench = async (options: PutBenchOptions): Promise<void> => {
  const dataDir = options.data ? fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-put-bench-')) : undefined
  const sockets = new Map<string, dgram.Socket>()
  const addresses = new Map<string, dgram.RemoteInfo>()
  const children: ChildProcess[] = []
  const clients = Array.from({ length: options.clients }, (_, i) => ({
    id: (FIRST_CLIENT + i).toString(16).toUpperCase().padStart(4, '0'),
    leader: IDS[0]!,
    mid: '',
    sentAt: 0,
    count: 0,
  }))
  const byId = new Map(clients.map((client) => [client.id, client]))
  let counting = false
  let running = true
  const latencies: number[] = []

  const deliver = (to: string, bytes: Buffer): void => {
    const address = addresses.get(to)
    if (address !== undefined) sockets.get(to)!.send(bytes, address.port, address.address)
  }
  const sendPut = (client: (typeof clients)[number]): void => {
    client.count++
    client.mid = `${client.id}-${client.count}`.padEnd(16, 'm')
    client.sentAt = performance.now()
    const put = { src: client.id, dst: client.leader, leader: 'FFFF', type: 'put', MID: client.mid, key: `${client.id}-key-${client.count % 20}`.padEnd(32, 'k'), value: `${client.count}`.padStart(32, '0') }
    deliver(client.leader, Buffer.from(JSON.stringify(put)))
  }

  try {
    for (const id of IDS) {
      const socket = dgram.createSocket('udp4')
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
      socket.on('message', (bytes, from) => {
        const message = JSON.parse(bytes.toString('utf8')) as { type: string; dst: string; src: string; leader: string; MID?: string }
        if (message.type === 'hello') return void addresses.set(id, from)
        const client = byId.get(message.dst)
        if (client === undefined) {
          for (const target of message.dst === 'FFFF' ? IDS.filter((other) => other !== message.src) : [message.dst]) deliver(target, bytes)
          return
        }
        if (message.MID !== client.mid || !running) return
        if (message.type === 'ok' && counting) latencies.push(performance.now() - client.sentAt)
        // A redirect (or fail) names the leader, or none yet: try it, or the next replica.
        client.leader = message.leader !== 'FFFF' ? message.leader : IDS[(IDS.indexOf(client.leader) + 1) % IDS.length]!
        if (message.type !== 'ok' && message.leader === 'FFFF') setTimeout(() => running && sendPut(client), 50)
        else sendPut(client)
      })
      sockets.set(id, socket)
    }
    for (const id of IDS) {
      const args = [...(dataDir === undefined ? [] : ['--data', dataDir]), String(sockets.get(id)!.address().port), id, ...IDS.filter((p) => p !== id)]
      children.push(spawn(path.join(repoRoot(), '3700kvstore'), args, { stdio: 'ignore', detached: true }))
    }
    while (addresses.size < IDS.length) await sleep(50)
    for (const client of clients) sendPut(client)
    await sleep(1_000 + 3_000) // election, then a one-second warm-up
    counting = true
    const began = performance.now()
    await sleep(options.seconds * 1000)
    counting = false
    running = false
    const seconds = (performance.now() - began) / 1000
    const sorted = sortedAscending(latencies)
    const at = (q: number) => quantileOfSorted(sorted, q) ?? NaN
    console.log(
      `${options.data ? 'disk' : 'memory'}: ${options.clients} clients, ${seconds.toFixed(1)} s: ${latencies.length} puts, ${Math.round(latencies.length / seconds)} puts/s, median ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms`,
    )
  } finally {
    for (const child of children) {
      try {
        process.kill(-child.pid!, 'SIGTERM')
      } catch {
        // gone
      }
    }
    await Promise.all(children.map((child) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))))
    for (const socket of sockets.values()) socket.close()
    if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

