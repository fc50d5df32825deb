/**
 * The real cluster's description: each replica's ID, the address its peers reach it at (`peer`)
 * and the address clients reach it at (`client`). Given as `--peers` or a cluster file, and
 * recorded in the replica's data directory on its first start; from then on the record follows the
 * configuration in the log (serve.ts), and a later start takes the members from it, not from the
 * command line, which must only give this replica the addresses it has in the cluster.
 *
 * IDs are the wire's (four upper-case hex digits); the command line also takes shorter hex (`1` is
 * `0001`). Hosts are names, IPv4 or IPv6 literals (`[::1]:7001` in the `host:port` form).
 */
import * as E from 'fp-ts/Either'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as t from 'io-ts'
import { parseNodeId, type NodeId } from '../../domain/wire'

export interface Address {
  readonly host: string
  readonly port: number
}

export interface Member {
  readonly id: NodeId
  readonly peer: Address
  readonly client: Address
}

export interface Cluster {
  /** In ID order. */
  readonly members: readonly Member[]
}

/** `host:port`, with IPv6 literals in brackets (`[::1]:7001`), as URLs and etcd write them. */
export const formatAddress = (a: Address): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)

/** A client URL's origin: `http://host:port`. */
export const clientOrigin = (m: Member): string => `http://${formatAddress(m.client)}`

export const parsePort = (text: string): number | undefined => {
  const port = Number(text)
  return /^\d{1,5}$/.test(text) && port >= 1 && port <= 65535 ? port : undefined
}

/** `host:port` or `[v6]:port`; Left says what is wrong. */
export const parseAddress = (text: string): E.Either<string, Address> => {
  const bracketed = /^\[([0-9A-Fa-f:.%a-zA-Z]+)\]:(\d+)$/.exec(text)
  const plain = /^([^:[\]\s]+):(\d+)$/.exec(text)
  const match = bracketed ?? plain
  if (match === null) return E.left(`not a host:port address (IPv6 in brackets, [::1]:7001): ${JSON.stringify(text)}`)
  const port = parsePort(match[2]!)
  if (port === undefined) return E.left(`not a port (1 to 65535): ${JSON.stringify(match[2])}`)
  return E.right({ host: match[1]!, port })
}

/** IDs from here on are not replicas': FFFF is broadcast, FF00 the HTTP front end's client ID. */
export const FIRST_RESERVED_ID = 0xff00

/** A replica ID from the command line: one to four hex digits, `1` meaning `0001`; below FF00. */
export const parseReplicaId = (text: string): NodeId | undefined => {
  if (!/^[0-9A-Fa-f]{1,4}$/.test(text) || Number.parseInt(text, 16) >= FIRST_RESERVED_ID) return undefined
  return parseNodeId(text.toUpperCase().padStart(4, '0'))
}

/**
 * `--peers`: `ID=HOST:PEER_PORT/CLIENT_PORT` (the client API on the same host) or
 * `ID=HOST:PEER_PORT/CLIENT_HOST:CLIENT_PORT`, comma-separated, one per replica.
 */
export const parsePeers = (text: string): E.Either<string, Cluster> => {
  const members: Member[] = []
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=')
    if (eq <= 0) return E.left(`expected ID=HOST:PEER_PORT/CLIENT_PORT, got ${JSON.stringify(item)}`)
    const idText = item.slice(0, eq)
    const rest = item.slice(eq + 1)
    const slash = rest.lastIndexOf('/')
    if (slash < 0) return E.left(`${JSON.stringify(item)}: the client port is missing (ID=HOST:PEER_PORT/CLIENT_PORT)`)
    const peer = parseAddress(rest.slice(0, slash))
    if (E.isLeft(peer)) return peer
    const clientText = rest.slice(slash + 1)
    const clientPort = parsePort(clientText)
    const client = clientPort !== undefined ? E.right({ host: peer.right.host, port: clientPort }) : parseAddress(clientText)
    if (E.isLeft(client)) return client
    const member = memberOf(idText, peer.right, client.right)
    if (E.isLeft(member)) return member
    members.push(member.right)
  }
  return clusterOf(members)
}

const memberOf = (idText: string, peer: Address, client: Address): E.Either<string, Member> => {
  const id = parseReplicaId(idText)
  if (id === undefined) return E.left(`not a replica ID (one to four hex digits, below FF00): ${JSON.stringify(idText)}`)
  return E.right({ id, peer, client })
}

/** Members checked (at least one, no ID or address twice) and put in ID order. */
export const clusterOf = (members: readonly Member[]): E.Either<string, Cluster> => {
  if (members.length === 0) return E.left('the cluster has no replicas')
  const seen = new Set<string>()
  for (const m of members) {
    for (const key of [`id ${m.id}`, `address ${formatAddress(m.peer)}`, `address ${formatAddress(m.client)}`]) {
      if (seen.has(key)) return E.left(`${key} is given twice`)
      seen.add(key)
    }
  }
  return E.right({ members: [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) })
}

// ---- the cluster file -------------------------------------------------------------------------

const MemberJson = t.type({ id: t.string, peer: t.string, client: t.string })
const ClusterJson = t.type({ replicas: t.array(MemberJson) })

/** The cluster as the file holds it: `{"replicas":[{"id":"0001","peer":"h:p","client":"h:p"},...]}`. */
export const clusterToJson = (cluster: Cluster): string =>
  `${JSON.stringify(
    { replicas: cluster.members.map((m) => ({ id: m.id, peer: formatAddress(m.peer), client: formatAddress(m.client) })) },
    null,
    2,
  )}\n`

export const clusterFromJson = (text: string): E.Either<string, Cluster> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return E.left('not JSON')
  }
  if (!ClusterJson.is(json)) return E.left('expected {"replicas":[{"id":..., "peer":"host:port", "client":"host:port"}, ...]}')
  const members: Member[] = []
  for (const m of json.replicas) {
    const peer = parseAddress(m.peer)
    if (E.isLeft(peer)) return peer
    const client = parseAddress(m.client)
    if (E.isLeft(client)) return client
    const member = memberOf(m.id, peer.right, client.right)
    if (E.isLeft(member)) return member
    members.push(member.right)
  }
  return clusterOf(members)
}

export const readClusterFile = (file: string): E.Either<string, Cluster> => {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    return E.left(`cannot read ${file}: ${(error as Error).message}`)
  }
  const cluster = clusterFromJson(text)
  return E.isLeft(cluster) ? E.left(`${file}: ${cluster.left}`) : cluster
}

export const sameCluster = (a: Cluster, b: Cluster): boolean => clusterToJson(a) === clusterToJson(b)

/** The file in a replica's data directory that records the cluster it was started in. */
export const CLUSTER_FILE = 'cluster.json'

const sameAddresses = (a: Member, b: Member): boolean =>
  formatAddress(a.peer) === formatAddress(b.peer) && formatAddress(a.client) === formatAddress(b.client)

/** Why a start cannot take its members' addresses; `otherAddresses`: the record puts this replica elsewhere. */
export interface AddressesRefused {
  readonly otherAddresses: boolean
  readonly message: string
}

/**
 * The members' addresses replica `id` starts with, itself included. `given` is the command line's
 * cluster, if any.
 * - No record yet (a new data directory): `given` is recorded and used.
 * - A record: it is used. It follows the log's configuration, so the command line's members may be
 *   the ones of an earlier configuration (the replica's first command) or of a later one; the log
 *   says who the members are, and the record where they are. Of `given`, only this replica's own
 *   addresses are looked at: the record must give it the same (else this is another cluster's
 *   directory, or the replica was moved, which the other members' configuration does not know).
 */
export const addressesOnStart = (directory: string, given: Cluster | undefined, id: string): E.Either<AddressesRefused, Cluster> => {
  const file = path.join(directory, CLUSTER_FILE)
  const refused = (message: string, otherAddresses = false) => E.left({ otherAddresses, message })
  const self = given?.members.find((m) => m.id === id)
  if (!fs.existsSync(file)) {
    if (given === undefined) return refused(`${file} is missing: give the cluster (--peers or --cluster) to record it again`)
    const written = recordCluster(directory, given)
    return E.isLeft(written) ? refused(written.left) : E.right(given)
  }
  const stored = readClusterFile(file)
  if (E.isLeft(stored)) return refused(`the data directory's cluster description is unreadable: ${stored.left}`)
  const recorded = stored.right.members.find((m) => m.id === id)
  if (recorded !== undefined && self !== undefined && !sameAddresses(recorded, self)) {
    return refused(
      `replica ${id} of the cluster recorded in ${file} is at peer ${formatAddress(recorded.peer)}, client ${formatAddress(recorded.client)}; ` +
        `given now: peer ${formatAddress(self.peer)}, client ${formatAddress(self.client)}.\n  recorded:\n${describe(stored.right)}`,
      true,
    )
  }
  if (recorded !== undefined) return E.right(stored.right)
  // A record made before it kept this replica once the log left it out (a removed member).
  if (self === undefined) return refused(`${file} does not name replica ${id}: give its addresses (--peers ${id}=HOST:PEER_PORT/CLIENT_PORT)`)
  const cluster = clusterOf([...stored.right.members, self])
  return E.isLeft(cluster) ? refused(`${file}: ${cluster.left}`) : cluster
}

/** Records `cluster` in a replica's directory: written to a temporary file, synced, renamed. */
export const recordCluster = (directory: string, cluster: Cluster): E.Either<string, void> => {
  const file = path.join(directory, CLUSTER_FILE)
  try {
    const temporary = `${file}.new`
    const fd = fs.openSync(temporary, 'w')
    try {
      fs.writeSync(fd, clusterToJson(cluster))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temporary, file)
    const dirFd = fs.openSync(directory, 'r')
    try {
      fs.fsyncSync(dirFd)
    } finally {
      fs.closeSync(dirFd)
    }
  } catch (error) {
    return E.left(`cannot record the cluster in ${file}: ${(error as Error).message}`)
  }
  return E.right(undefined)
}

/** One line per replica: `    0001  peer 127.0.0.1:7501  client 127.0.0.1:7401`. */
const describe = (cluster: Cluster): string =>
  cluster.members.map((m) => `    ${m.id}  peer ${formatAddress(m.peer)}  client ${formatAddress(m.client)}\n`).join('')
