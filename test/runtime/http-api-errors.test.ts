/**
 * The HTTP API's answers to bad input (issue 24, item 2): a clear JSON error with a 4xx status,
 * nothing written, and the replica undisturbed. Sent to the leader of a real three-replica
 * cluster, where anything accepted would be written.
 */
import * as net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RaftkvClient } from '../../src/client/client'
import { RealCluster, type ReplicaProcess } from './real-cluster'

/** Sends raw bytes, then waits for the server to close; resolves to all it wrote back. */
const raw = (port: number, send: (socket: net.Socket) => void, timeoutMs = 20_000): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => send(socket))
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server did not close the connection; it wrote: ${text}`))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(text)
    })
    socket.on('error', () => {})
  })

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1])
const bodyOf = (response: string): unknown => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))

describe('the HTTP API refuses bad input and changes nothing', () => {
  const cluster = new RealCluster(3, ['--body-timeout', '1'])
  let leader: ReplicaProcess
  let base: string
  let client: RaftkvClient

  beforeAll(async () => {
    await cluster.start()
    leader = await cluster.leader()
    base = cluster.url(leader)
    client = new RaftkvClient({ endpoints: cluster.endpoints, timeoutMs: 30_000 })
    await client.put('present', 'before')
  })
  afterAll(async () => {
    client?.close()
    await cluster.stop()
  })

  const expectError = async (response: Response, status: number, error: string) => {
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toBe('application/json')
    const body = (await response.json()) as { error: string; message: string }
    expect(body.error).toBe(error)
    expect(body.message.length).toBeGreaterThan(10)
  }

  it('a key over 1,024 bytes: 413', async () => {
    await expectError(await fetch(`${base}/v1/kv/${'k'.repeat(1025)}`, { method: 'PUT', body: 'v' }), 413, 'key_too_large')
    await expectError(await fetch(`${base}/v1/kv/${'é'.repeat(513)}`), 413, 'key_too_large')
  })

  it('a value over 64 KiB: 413, whether its length is declared or it comes in chunks', async () => {
    await expectError(await fetch(`${base}/v1/kv/big`, { method: 'PUT', body: 'x'.repeat(64 * 1024 + 1) }), 413, 'value_too_large')
    // 70 chunks of 1 KiB, one after another, and no more once the server has answered (RFC 9112
    // §9.6: a client stops sending a body on an early error). Bytes written after the server has
    // closed make its kernel reset the connection, which can discard the answer before it is read.
    const chunked = await raw(leader.clientPort, (socket) => {
      socket.write('PUT /v1/kv/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
      let answered = false
      socket.once('data', () => (answered = true))
      let sent = 0
      const next = (): void => {
        if (answered || socket.destroyed || sent++ >= 70) return
        socket.write(`400\r\n${'y'.repeat(1024)}\r\n`, () => setImmediate(next))
      }
      next()
    })
    expect(statusOf(chunked)).toBe(413)
    // Exactly at the limit is fine.
    expect((await fetch(`${base}/v1/kv/at-limit`, { method: 'PUT', body: 'z'.repeat(64 * 1024) })).status).toBe(200)
  })

  it('a malformed path or encoding: 400', async () => {
    await expectError(await fetch(`${base}/v1/kv/%zz`, { method: 'PUT', body: 'v' }), 400, 'bad_encoding')
    await expectError(await fetch(`${base}/v1/kv/%ff%fe`, { method: 'PUT', body: 'v' }), 400, 'bad_encoding')
    await expectError(await fetch(`${base}/v1/kv/`, { method: 'PUT', body: 'v' }), 400, 'bad_key')
    await expectError(await fetch(`${base}/v1/kv/k?prev=%zz`, { method: 'PUT', body: 'v' }), 400, 'bad_encoding')
    await expectError(await fetch(`${base}/v1/kv/k?colour=red`, { method: 'PUT', body: 'v' }), 400, 'bad_query')
    await expectError(await fetch(`${base}/v1/kv/k`, { method: 'PUT', body: new Uint8Array([0xff, 0xfe, 0x00]) }), 400, 'bad_value')
    await expectError(await fetch(`${base}/v1/kv/k`, { method: 'PUT', body: 'v', headers: { 'X-Request-Id': 'no spaces allowed' } }), 400, 'bad_request_id')
    const garbage = await raw(leader.clientPort, (socket) => socket.write('THIS IS NOT HTTP\r\n\r\n'))
    expect(statusOf(garbage)).toBe(400)
    expect(bodyOf(garbage)).toMatchObject({ error: 'bad_request' })
  })

  it('an unknown path: 404; a method the path does not take: 405', async () => {
    await expectError(await fetch(`${base}/v2/keys/k`), 404, 'not_found')
    await expectError(await fetch(`${base}/`), 404, 'not_found')
    const post = await fetch(`${base}/v1/kv/k`, { method: 'POST', body: 'v' })
    expect(post.headers.get('allow')).toBe('GET, PUT, DELETE')
    await expectError(post, 405, 'method_not_allowed')
  })

  it('a slow body: 408 after the body timeout, and the connection closed', async () => {
    const slow = await raw(leader.clientPort, (socket) => socket.write('PUT /v1/kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'))
    expect(statusOf(slow)).toBe(408)
    expect(bodyOf(slow)).toMatchObject({ error: 'body_timeout' })
  })

  it('a truncated body (the client hangs up): nothing written', async () => {
    await raw(leader.clientPort, (socket) => {
      socket.write('PUT /v1/kv/truncated HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc')
      setTimeout(() => socket.destroy(), 100)
    })
  })

  it('none of it wrote anything or disturbed the replica', async () => {
    for (const key of ['big', 'k', 'slow', 'truncated', 'k'.repeat(1000)]) expect(await client.get(key)).toBeUndefined()
    expect(await client.get('present')).toBe('before')
    expect(await client.get('at-limit')).toBe('z'.repeat(64 * 1024))
    expect(leader.child!.exitCode).toBeNull()
    expect((await cluster.status(leader))?.role).toBe('leader')
    await client.put('present', 'after')
    expect(await client.get('present')).toBe('after')
  })
})
