/**
 * A real `3700kvstore` process on a data directory, killed with SIGKILL (a crash: no chance to
 * flush anything) and started again on it: it keeps its term, its vote and its log (Figure 2's
 * persistent state), so it does not vote twice in a term nor for a candidate with a shorter log.
 * The test plays the simulator and the two peers on one UDP socket. The same exchange without a
 * data directory shows the forgetting it prevents. And the executable refuses, with exit code 3, a
 * data directory that is corrupt, another replica's, or in use by a running replica. Bounds are generous: this checks behaviour.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as dgram from 'node:dgram'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { encodeMessage, type Entry, type Message, type NodeId } from '../../src/domain/wire'
import { append, noop, putEntry, vote } from '../domain/helpers'

const REPLICA = path.resolve(__dirname, '../../3700kvstore')
const ME = '0001' as NodeId
const A = '0000' as NodeId
const B = '0002' as NodeId
/** Longer than the minimum election timeout: a restarted replica with a term refuses votes before. */
const AFTER_RESTART_LEASE_MS = 1_800

type Received = Message & { readonly granted?: boolean; readonly term?: number; readonly success?: boolean; readonly matchIndex?: number }

class Harness {
  private readonly socket = dgram.createSocket('udp4')
  private child: ChildProcess | undefined
  private address: dgram.RemoteInfo | undefined
  received: Received[] = []
  stderr = ''

  async bind(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve))
    this.socket.on('message', (bytes, from) => {
      const message = JSON.parse(bytes.toString('utf8')) as Received
      if (message.type === 'hello') this.address = from
      this.received.push(message)
    })
  }

  /** Starts the replica (with `--data dir` when given) and waits for its hello. */
  async start(dataDir: string | undefined): Promise<void> {
    this.address = undefined
    this.received = []
    const args = [...(dataDir === undefined ? [] : ['--data', dataDir]), String(this.socket.address().port), ME, A, B]
    this.child = spawn(REPLICA, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true, env: { ...process.env, RAFTKV_WARMUP: '0' } })
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')))
    await this.until(() => this.address, 20_000)
  }

  /** Kills the replica's process group at once (SIGKILL) and waits for it to be gone. */
  async crash(): Promise<void> {
    const child = this.child!
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    process.kill(-child.pid!, 'SIGKILL')
    await exited
  }

  send(message: Message): void {
    this.socket.send(Buffer.from(encodeMessage(message)), this.address!.port, this.address!.address)
  }

  /** Sends `message` and waits for the reply of type `type` from the replica. */
  async ask(message: Message, type: string): Promise<Received> {
    const before = this.received.length
    this.send(message)
    return this.until(() => this.received.slice(before).find((m) => m.type === type && m.dst === message.src), 20_000)
  }

  async until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = probe()
      if (value !== undefined) return value
      if (Date.now() > deadline) throw new Error(`timed out; replica stderr: ${this.stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  stop(): void {
    try {
      if (this.child?.pid !== undefined && this.child.exitCode === null) process.kill(-this.child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
    this.socket.close()
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const entries: Entry[] = [noop(3), putEntry(3, 'k', 'v', 'm1')]

/**
 * Before the crash: a vote for A in term 3, then A's two entries of term 3. After the restart: B
 * asks in term 3 (same term), then in term 4 with a log shorter than the replica's, then in term 5
 * with a log as long. Returns the three answers.
 */
const crashAndAskAgain = async (harness: Harness, dataDir: string | undefined) => {
  await harness.start(dataDir)
  expect(await harness.ask(vote({ src: A, dst: ME, term: 3 }), 'voteReply')).toMatchObject({ granted: true, term: 3 })
  expect(await harness.ask(append({ src: A, dst: ME, term: 3, entries }), 'appendReply')).toMatchObject({ success: true, matchIndex: 2 })
  await harness.crash()

  await harness.start(dataDir)
  await sleep(AFTER_RESTART_LEASE_MS)
  const sameTerm = await harness.ask(vote({ src: B, dst: ME, term: 3, lastLogIndex: 2, lastLogTerm: 3 }), 'voteReply')
  const shorterLog = await harness.ask(vote({ src: B, dst: ME, term: 4, lastLogIndex: 1, lastLogTerm: 3 }), 'voteReply')
  const upToDate = await harness.ask(vote({ src: B, dst: ME, term: 5, lastLogIndex: 2, lastLogTerm: 3 }), 'voteReply')
  return { sameTerm, shorterLog, upToDate }
}

describe('a replica restarted on its data directory', () => {
  const dirs: string[] = []
  const harnesses: Harness[] = []
  const setUp = async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raftkv-restart-'))
    dirs.push(dir)
    const harness = new Harness()
    harnesses.push(harness)
    await harness.bind()
    return { dir, harness }
  }
  afterEach(() => {
    for (const harness of harnesses.splice(0)) harness.stop()
  })
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('keeps its term, its vote and its log across a crash (SIGKILL)', async () => {
    const { dir, harness } = await setUp()
    const answers = await crashAndAskAgain(harness, dir)
    // §5.2: at most one vote per term; the term came back with it.
    expect(answers.sameTerm).toMatchObject({ granted: false, term: 3 })
    // §5.4.1: the log came back, so a candidate with a shorter one is refused.
    expect(answers.shorterLog).toMatchObject({ granted: false, term: 4 })
    expect(answers.upToDate).toMatchObject({ granted: true, term: 5 })
    // And an AppendEntries that needs the recovered entries to match is accepted.
    expect(await harness.ask(append({ src: B, dst: ME, term: 5, prevLogIndex: 2, prevLogTerm: 3 }), 'appendReply')).toMatchObject({ success: true, matchIndex: 2 })
  }, 60_000)

  it('without a data directory it forgets them (the control: the same exchange grants a second vote in term 3)', async () => {
    const { harness } = await setUp()
    const answers = await crashAndAskAgain(harness, undefined)
    expect(answers.sameTerm).toMatchObject({ granted: true, term: 3 })
  }, 60_000)

  it('refuses with exit code 3 a data directory that is corrupt or another replica\'s', async () => {
    const { dir, harness } = await setUp()
    await harness.start(dir)
    await harness.crash()
    const exitOf = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(REPLICA, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
        let stderr = ''
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
        child.once('exit', (code) => resolve({ code, stderr }))
      })
    fs.renameSync(path.join(dir, ME), path.join(dir, A))
    const other = await exitOf(['--data', dir, '9', A, ME, B])
    expect(other.code).toBe(3)
    expect(other.stderr).toMatch(/belongs to replica 0001, not to 0000/)
    const file = path.join(dir, A, 'raft.log')
    fs.writeFileSync(file, Buffer.concat([Buffer.from('garbage!'), fs.readFileSync(file)]))
    // The data directory through the environment this time.
    const corrupt = await exitOf(['9', A, ME, B], { RAFTKV_DATA: dir })
    expect(corrupt.code).toBe(3)
    expect(corrupt.stderr).toMatch(/corrupt/)
    expect(corrupt.stderr).toContain('what to do: do not empty the directory')
    expect(corrupt.stderr).toContain('remove the member and add a new one (raftkv member remove/add)')
  }, 60_000)

  it('says on stderr what it cut when it finds a torn tail, and starts', async () => {
    const { dir, harness } = await setUp()
    await harness.start(dir)
    expect(await harness.ask(vote({ src: A, dst: ME, term: 3 }), 'voteReply')).toMatchObject({ granted: true, term: 3 })
    await harness.crash()
    const file = path.join(dir, ME, 'raft.log')
    const good = fs.statSync(file).size
    fs.appendFileSync(file, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 2, 123]))
    await harness.start(dir)
    expect(harness.stderr).toContain(`3700kvstore ${ME}: ${file}: cut a torn tail of 10 bytes at byte ${good} (one incomplete record;`)
    expect(fs.statSync(file).size).toBe(good)
    expect(await harness.ask(vote({ src: B, dst: ME, term: 3 }), 'voteReply')).toMatchObject({ granted: false, term: 3 })
  }, 60_000)

  it('a second replica on a directory in use exits with code 3, and the first goes on as before', async () => {
    const { dir, harness } = await setUp()
    await harness.start(dir)
    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(REPLICA, ['--data', dir, '9', ME, A, B], { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
      child.once('exit', (code) => resolve({ code, stderr }))
    })
    expect(second.code).toBe(3)
    expect(second.stderr).toMatch(/is in use by process \d+/)
    expect(await harness.ask(vote({ src: A, dst: ME, term: 3 }), 'voteReply')).toMatchObject({ granted: true, term: 3 })
  }, 60_000)
})
