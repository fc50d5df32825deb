/**
 * `raftkv cluster up` as a user runs it: a local cluster in the foreground, a line per replica,
 * serving the client commands, stopped by Ctrl-C (SIGINT) with exit code 0; started again on the
 * same directory it has its data back. Three replicas, at ports from ones the kernel handed out.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RaftkvClient } from '../../src/client/client'
import { freePort, RAFTKV, until } from '../runtime/real-cluster'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-up-'))

const up = async (clientPort: number, peerPort: number) => {
  const child = spawn(RAFTKV, ['cluster', 'up', '--replicas', '3', '--dir', dir, '--client-port', String(clientPort), '--peer-port', String(peerPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await until('a replica to lead', () => (/000[123]: leader in term \d+/.test(output) ? true : undefined))
  return { child, exited, output: () => output }
}

describe('raftkv cluster up', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('runs a local cluster in the foreground until Ctrl-C, and keeps its data for the next start', async () => {
    const clientPort = await freePort()
    let peerPort = await freePort()
    while (Math.abs(peerPort - clientPort) < 3) peerPort = await freePort()
    const first = await up(clientPort, peerPort)
    expect(first.output()).toContain(`clients at http://127.0.0.1:${clientPort}`)
    const client = new RaftkvClient({ endpoints: [0, 1, 2].map((i) => `127.0.0.1:${clientPort + i}`), timeoutMs: 30_000 })
    try {
      await client.put('kept', 'across restarts')
      first.child.kill('SIGINT')
      expect(await first.exited).toBe(0)
      expect(first.output()).toContain('stopping the replicas')

      const second = await up(clientPort, peerPort)
      expect(await client.get('kept')).toBe('across restarts')
      second.child.kill('SIGINT')
      expect(await second.exited).toBe(0)
    } finally {
      client.close()
    }
  })

  it('refuses a directory that holds another cluster, with exit code 2', async () => {
    const child = spawn(RAFTKV, ['cluster', 'up', '--replicas', '5', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).toBe(2)
    expect(stderr).toContain('holds another cluster')
  })
})
