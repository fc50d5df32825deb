/**
 * A latency probe for the course's simulator, not a database (it fails the correctness checks'
 * spirit if not their letter: nothing is replicated). It is the Node twin of
 * `bench/probes/quorum-probe.py`, and both extend the course's `floor-replica` by one rule: a put
 * is answered once a majority has acknowledged it, as a correct replica must.
 *
 * Replica 0000 keeps one map and answers gets at once; for a put it sends a `ping` to the first
 * `majority - 1` other replicas (or one `ping` to `FFFF` with `QUORUM_PROBE=broadcast`) and answers
 * the client after that many `pong`s. Every other replica redirects clients to 0000 and answers a
 * `ping` with a `pong`. So a put costs the message pattern of an ideal replica (BENCHMARKS.md,
 * "How far a Node replica can get") with no logic beyond parsing and writing JSON: run under the
 * course's simulator, the pair tells what the pattern costs (the Python probe against
 * floor-replica) and what Node's own handling of a datagram costs (the two probes).
 *
 *   python3 /work/shared/course-sim/run -s -r bench/probes/quorum-probe-node /work/shared/configs/simple-2.json
 */
import * as dgram from 'node:dgram'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs } from './args'
import { replicaArgs, type ReplicaArgs } from './replica-args'

interface Datagram {
  readonly src: string
  readonly dst: string
  readonly type: string
  readonly MID?: string
  readonly key?: string
  readonly value?: string
}

interface PendingPut {
  readonly client: string
  readonly key: string
  readonly value: string
  acks: number
}

const LEADER = '0000'

export const command = {
  name: 'quorum-probe',
  summary: "A latency probe for the course's simulator, not a database: replica 0000 answers a put once a majority has\nanswered its pings; the others redirect to it (QUORUM_PROBE=broadcast: one ping to FFFF).",
  synopsis: '<UDP port> <own ID> <peer ID> [<peer ID> ...]',
  options: {},
  positionals: { min: 3, max: Number.MAX_SAFE_INTEGER },
} as const satisfies CommandSpec<OptionSpecs>

const probe = ({ port, id: me, peers }: ReplicaArgs): void => {
  const broadcast = process.env['QUORUM_PROBE'] === 'broadcast'
  const need = Math.floor((peers.length + 1) / 2)
  const askedPeers = [...peers].sort().slice(0, need)

  const socket = dgram.createSocket('udp4')
  const send = (message: object): void => socket.send(JSON.stringify(message))
  const store = new Map<string, string>()
  const pending = new Map<string, PendingPut>()

  const asLeader = (m: Datagram): void => {
    if (m.type === 'get') {
      send({ src: me, dst: m.src, leader: me, type: 'ok', MID: m.MID, value: store.get(m.key ?? '') ?? '' })
    } else if (m.type === 'put') {
      pending.set(m.MID ?? '', { client: m.src, key: m.key ?? '', value: m.value ?? '', acks: 0 })
      if (broadcast) send({ src: me, dst: 'FFFF', leader: me, type: 'ping', MID: m.MID })
      else for (const peer of askedPeers) send({ src: me, dst: peer, leader: me, type: 'ping', MID: m.MID })
    } else if (m.type === 'pong') {
      const put = pending.get(m.MID ?? '')
      if (put === undefined || ++put.acks < need) return
      pending.delete(m.MID ?? '')
      store.set(put.key, put.value)
      send({ src: me, dst: put.client, leader: me, type: 'ok', MID: m.MID })
    }
  }

  const asFollower = (m: Datagram): void => {
    if (m.type === 'get' || m.type === 'put') send({ src: me, dst: m.src, leader: LEADER, type: 'redirect', MID: m.MID })
    else if (m.type === 'ping') send({ src: me, dst: m.src, leader: LEADER, type: 'pong', MID: m.MID })
  }

  socket.on('message', (bytes) => {
    let m: Datagram
    try {
      m = JSON.parse(bytes.toString()) as Datagram
    } catch {
      return
    }
    if (me === LEADER) asLeader(m)
    else asFollower(m)
  })
  socket.bind(0, '127.0.0.1', () => {
    socket.connect(port, '127.0.0.1', () => send({ src: me, dst: 'FFFF', leader: 'FFFF', type: 'hello' }))
  })
}

if (require.main === module) {
  exitWith(runCommand(command, process.argv.slice(2), ({ positionals }) => probe(replicaArgs({ data: undefined }, positionals))))
}
