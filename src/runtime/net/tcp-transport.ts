/**
 * The real cluster's replica-to-replica transport: TCP, one connection from each replica to each
 * peer it sends to, every message a frame (net/frames.ts: 4-byte big-endian length, then the message as the same
 * JSON the course's datagrams carry, decoded by the same codecs). Why TCP and not the course's UDP:
 * BENCHMARKS.md ("The real cluster's transport"); in short, no size limit on an AppendEntries or a
 * snapshot piece, and one write carries every message of an event-loop turn.
 *
 * Raft tolerates lost messages, so the transport never queues without bound and never retries a
 * message: what cannot be written now (no connection yet, a peer down, a connection backed up) is
 * dropped, and the leader's retransmission sends it again. What it must survive:
 * - a peer restarting or not yet started: a failed connection is tried again at the next send, at
 *   most every RECONNECT_MS;
 * - a partition or a stopped (SIGSTOP) peer: a connection whose peer has not been heard from for
 *   SILENCE_MS while we kept sending is dropped and made again, so that after the partition heals
 *   no message waits behind TCP's retransmission backoff (which grows to minutes) or behind a
 *   backlog of stale ones; a backlog over MAX_BACKLOG_BYTES drops the connection too;
 * - packet loss: TCP's own retransmission, and the same silence rule when it takes too long.
 * A frame that is too long or does not decode closes that connection or is dropped; it never
 * reaches the reducer and never throws.
 */
import * as net from 'node:net'
import * as E from 'fp-ts/Either'
import { BROADCAST, decodeMessage, type Message, type NodeId } from '../../domain/wire'
import type { Address } from './cluster'
import { FrameEncoder, FrameReader } from './frames'
import { listenOn } from './listen'

/** A failed or dropped connection is tried again no sooner than this. */
export const RECONNECT_MS = 200
/** How long a connection attempt may take. */
const CONNECT_TIMEOUT_MS = 1_000
/**
 * A peer we keep sending to and have not heard from for this long: the connection is remade. More
 * than the heartbeat interval (a leader hears from each follower at least that often), less than
 * an election timeout's worth of several heartbeats.
 */
export const SILENCE_MS = 2_000
/** More than this much waiting in a connection's buffer: the peer is not reading; drop it. */
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024

export interface TransportIO {
  readonly now: () => number
  /** A decoded message from a peer. */
  readonly onMessage: (message: Message) => void
  readonly trace: ((line: string) => void) | undefined
}

/** Counts for /metrics. */
export interface TransportCounters {
  framesSent: number
  framesReceived: number
  framesDropped: number
  connectsMade: number
  connectionsDropped: number
}

/** One peer's outgoing connection. */
class PeerLink {
  private socket: net.Socket | undefined
  private connected = false
  private connectedAt = 0
  private lastAttemptAt = Number.NEGATIVE_INFINITY
  private corked = false
  lastHeardAt = Number.NEGATIVE_INFINITY
  private lastSentAt = Number.NEGATIVE_INFINITY

  constructor(
    readonly id: NodeId,
    private readonly address: Address,
    private readonly io: TransportIO,
    private readonly counters: TransportCounters,
  ) {}

  /** Whether this link connects to `address`. */
  reaches(address: Address): boolean {
    return this.address.host === address.host && this.address.port === address.port
  }

  /** Sends one frame, given as its chunks (net/frames.ts). */
  send(chunks: readonly Buffer[]): void {
    const now = this.io.now()
    let socket = this.socket
    if (socket === undefined) {
      if (now - this.lastAttemptAt < RECONNECT_MS) {
        this.counters.framesDropped++
        return
      }
      socket = this.connect(now)
    }
    if (socket.writableLength > MAX_BACKLOG_BYTES) {
      this.drop(`its backlog passed ${MAX_BACKLOG_BYTES} bytes`)
      this.counters.framesDropped++
      return
    }
    // Every frame of one event-loop turn leaves in one write.
    if (!this.corked) {
      this.corked = true
      socket.cork()
      process.nextTick(() => this.flush())
    }
    for (const chunk of chunks) socket.write(chunk)
    this.lastSentAt = now
    this.counters.framesSent++
  }

  /** Writes what is corked now, rather than at the end of this turn. */
  flush(): void {
    if (!this.corked) return
    this.corked = false
    this.socket?.uncork()
  }

  /** Called every so often: remake a connection to a peer gone silent while we kept sending. */
  checkSilence(now: number): void {
    if (!this.connected) return
    const silentSince = Math.max(this.lastHeardAt, this.connectedAt)
    if (now - silentSince > SILENCE_MS && now - this.lastSentAt < SILENCE_MS) this.drop(`nothing heard from ${this.id} for ${SILENCE_MS} ms`)
  }

  close(): void {
    this.socket?.destroy()
    this.socket = undefined
  }

  private connect(now: number): net.Socket {
    this.lastAttemptAt = now
    this.connected = false
    const socket = net.connect({ host: this.address.host, port: this.address.port })
    this.socket = socket
    socket.setNoDelay(true)
    socket.setTimeout(CONNECT_TIMEOUT_MS)
    socket.on('connect', () => {
      socket.setTimeout(0)
      socket.setKeepAlive(true, 1_000)
      this.connected = true
      this.connectedAt = this.io.now()
      this.counters.connectsMade++
      this.io.trace?.(`connected to ${this.id}`)
    })
    socket.on('timeout', () => socket.destroy())
    socket.on('error', (error) => this.io.trace?.(`connection to ${this.id}: ${error.message}`))
    socket.on('close', () => {
      if (this.socket === socket) {
        this.socket = undefined
        this.connected = false
        this.lastAttemptAt = this.io.now()
      }
    })
    // We never read on an outgoing connection; a peer that writes to it is ignored.
    socket.on('data', () => {})
    return socket
  }

  private drop(why: string): void {
    this.io.trace?.(`dropping the connection to ${this.id}: ${why}`)
    this.counters.connectionsDropped++
    this.socket?.destroy()
    this.socket = undefined
    this.connected = false
    this.lastAttemptAt = this.io.now()
  }
}

export class PeerTransport {
  private readonly links = new Map<NodeId, PeerLink>()
  private readonly server: net.Server
  private readonly incoming = new Set<net.Socket>()
  private silenceTimer: NodeJS.Timeout | undefined
  /** One encoder for every link: followers sent the same entries in a row share their bytes. */
  readonly encoder = new FrameEncoder()
  readonly counters: TransportCounters = { framesSent: 0, framesReceived: 0, framesDropped: 0, connectsMade: 0, connectionsDropped: 0 }

  constructor(
    peers: ReadonlyMap<NodeId, Address>,
    private readonly io: TransportIO,
  ) {
    for (const [id, address] of peers) this.links.set(id, new PeerLink(id, address, io, this.counters))
    this.server = net.createServer((socket) => this.accept(socket))
    this.server.on('error', (error) => io.trace?.(`peer listener: ${error.message}`))
  }

  /** Listens for peers at `address` (a host of `::` or `0.0.0.0` listens on every interface). */
  async listen(address: Address): Promise<Address> {
    const bound = await listenOn(this.server, address)
    this.silenceTimer = setInterval(() => {
      const now = this.io.now()
      for (const link of this.links.values()) link.checkSilence(now)
    }, SILENCE_MS / 4)
    this.silenceTimer.unref()
    return bound
  }

  /**
   * A peer learned at run time (a member added to the cluster: its address comes with its
   * configuration entry), or one whose address changed. Links are never dropped: a removed member
   * is still sent the log until it holds its removal.
   */
  addPeer(id: NodeId, address: Address): void {
    const link = this.links.get(id)
    if (link !== undefined && link.reaches(address)) return
    link?.close()
    this.links.set(id, new PeerLink(id, address, this.io, this.counters))
  }

  /**
   * Sends to the peer `message.dst`, or to every peer when it is addressed to all (a candidate's
   * vote request, a replica's hello); false when it is not a peer.
   */
  send(message: Message): boolean {
    if (message.dst === BROADCAST) {
      const chunks = this.encoder.frame(message)
      for (const link of this.links.values()) link.send(chunks)
      return true
    }
    const link = this.links.get(message.dst)
    if (link === undefined) return false
    link.send(this.encoder.frame(message))
    return true
  }

  /** Hands the kernel every frame sent so far (before a blocking write and sync, say). */
  flush(): void {
    for (const link of this.links.values()) link.flush()
  }

  close(): void {
    if (this.silenceTimer !== undefined) clearInterval(this.silenceTimer)
    for (const link of this.links.values()) link.close()
    for (const socket of this.incoming) socket.destroy()
    this.server.close()
  }

  private accept(socket: net.Socket): void {
    this.incoming.add(socket)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 1_000)
    const reader = new FrameReader()
    socket.on('data', (chunk: Buffer) => {
      const read = reader.push(chunk, (bytes) => this.onFrame(bytes))
      if (E.isLeft(read)) {
        this.io.trace?.(`closing a peer connection: ${read.left}`)
        socket.destroy()
      }
    })
    socket.on('error', (error) => this.io.trace?.(`peer connection: ${error.message}`))
    socket.on('close', () => this.incoming.delete(socket))
  }

  private onFrame(bytes: Buffer): void {
    const decoded = decodeMessage(bytes.toString('utf8'))
    if (E.isLeft(decoded)) {
      this.io.trace?.(`dropped a frame: ${decoded.left}`)
      return
    }
    this.counters.framesReceived++
    const link = this.links.get(decoded.right.src)
    if (link !== undefined) link.lastHeardAt = this.io.now()
    this.io.onMessage(decoded.right)
  }
}
