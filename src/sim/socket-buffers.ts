/**
 * kvsim's sockets and their kernel buffers. The protocol never loses client traffic, but a UDP
 * socket whose receive buffer is full drops what arrives, silently. On a loaded machine kvsim can
 * fall far enough behind for Linux's default buffer (about 200 KB, a few hundred datagrams) to
 * fill: a put's `ok` is then lost while the AppendEntries that tells followers it committed gets
 * through, and a later get that sees the put is counted incorrect. So the sockets ask for large
 * buffers, and the run counts what the kernel dropped anyway, from `/proc/net/udp` where it can.
 * Only kvsim's own sockets are counted: what a replica's socket drops is that replica's business.
 */
import * as dgram from 'dgram'
import * as fs from 'fs'

/**
 * A socket for kvsim's routing, whose `send` reaches the kernel inside the call. Every address kvsim
 * sends to is an IP literal (where a replica's hello came from), yet Node's default lookup
 * (`dns.lookup`) answers even a literal on the next tick, which would hold every copy back until the
 * whole round of routing is done; the course's simulator sends each copy the moment it has checked
 * it (BENCHMARKS.md, "Sending each copy at once").
 */
export const createRoutingSocket = (): dgram.Socket => dgram.createSocket({ type: 'udp4', lookup: literalAddress })

const literalAddress: dgram.SocketOptions['lookup'] = (address, _options, callback) => callback(null, address, 4)

/** What kvsim asks for; Linux caps it at `net.core.rmem_max` / `wmem_max` (and then doubles it). */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

/** Asks for large buffers on a bound socket; a system that refuses keeps its defaults. */
export const enlargeBuffers = (socket: dgram.Socket): void => {
  try {
    socket.setRecvBufferSize(SOCKET_BUFFER_BYTES)
    socket.setSendBufferSize(SOCKET_BUFFER_BYTES)
  } catch {
    // The drop count says whether the defaults were enough.
  }
}

/**
 * The `drops` column of `/proc/net/udp` for each socket bound to one of `ports`: how many
 * datagrams the kernel dropped on their way into it. A port without a socket is absent.
 */
export const parseUdpDrops = (table: string, ports: ReadonlySet<number>): Map<number, number> => {
  const drops = new Map<number, number>()
  const columns = (table.split('\n', 1)[0] ?? '').trim().split(/\s+/)
  // The header has more words than a row has fields (a row joins `tx_queue:rx_queue` and
  // `tr:tm->when` into one field each), so `drops` is taken from the end: the last field.
  if (columns[columns.length - 1] !== 'drops') return drops
  for (const { port, fields } of udpTableRows(table)) {
    const count = Number(fields[fields.length - 1])
    if (ports.has(port) && Number.isInteger(count)) drops.set(port, (drops.get(port) ?? 0) + count)
  }
  return drops
}

/**
 * The sockets of a `/proc/net/udp` table, header left out: each one's local port (hexadecimal after
 * the colon of `local_address`) and its fields split on blanks (`fields[4]` is `tx_queue:rx_queue`).
 */
export const udpTableRows = (table: string): { port: number; fields: string[] }[] =>
  table
    .split('\n')
    .slice(1)
    .map((row) => row.trim().split(/\s+/))
    .flatMap((fields) => {
      const local = fields[1]
      return local === undefined ? [] : [{ port: Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16), fields }]
    })

/**
 * Datagrams dropped so far on their way into the sockets bound to `ports`, or undefined where the
 * kernel does not say: no `/proc/net/udp` (not Linux), or a port missing from it.
 */
export const receiveDrops = (ports: ReadonlySet<number>): number | undefined => {
  let table: string
  try {
    table = fs.readFileSync('/proc/net/udp', 'utf8')
  } catch {
    return undefined
  }
  const drops = parseUdpDrops(table, ports)
  if (drops.size < ports.size) return undefined
  let total = 0
  for (const count of drops.values()) total += count
  return total
}

/**
 * What the kernel charges a socket's receive buffer for one queued UDP datagram of `payloadBytes`
 * on localhost (the buffer holds its memory, not just its payload). Measured on this project's
 * machine (Linux, 2026-12-02): datagrams of each size were sent to a socket that read nothing, and
 * the number that fit in the default 212,992 bytes gave the charge; it moves in steps with the
 * allocator's sizes. Above the table it grows a little faster than the payload (an approximation).
 */
export const kernelCharge = (payloadBytes: number): number => {
  for (const [upTo, charge] of KERNEL_CHARGES) if (payloadBytes <= upTo) return charge
  return Math.round(payloadBytes * 1.3 + 5_000)
}

/** [largest payload, charge]: 256, 166, 92, 48, 25 and 12 datagrams filled the default buffer. */
const KERNEL_CHARGES: readonly (readonly [number, number])[] = [
  [192, 834],
  [640, 1_287],
  [1_664, 2_328],
  [3_748, 4_484],
  [7_844, 8_692],
  [17_176, 18_520],
]
