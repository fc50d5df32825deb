/** `raftkv serve`: one replica of a real cluster, in the foreground. */
import * as E from 'fp-ts/Either'
import { performance } from 'node:perf_hooks'
import * as t from 'io-ts'
import { ClientError, RaftkvClient } from '../../client/client'
import { configuration, type Configuration } from '../../domain/membership'
import type { NodeId } from '../../domain/wire'
import { clusterOf, formatAddress, parseAddress, parsePeers, parseReplicaId, readClusterFile, type Address, type Cluster, type Member } from '../../runtime/net/cluster'
import { startReplica, StartRefused, EXIT_STORAGE_FAILED } from '../../runtime/serve'
import { holdsReplica } from '../../runtime/data-dir'
import { LIMITS } from '../../runtime/http/routes'
import { standaloneSettings, withSettings } from '../../domain/config'
import { BUGS, bugFromEnvironment } from '../../net-test/bugs'
import { clockFromEnvironment } from '../../net-test/clock-jump'
import { runCommand, UsageError, type CommandSpec, type OptionSpecs } from '../args'

export const serveCommand = {
  name: 'raftkv serve',
  summary: 'Runs one replica of a raftkv cluster: peers over TCP, clients over HTTP (docs/http-api.md).',
  synopsis: '[options] --id ID [--peers LIST | --cluster FILE | --join URL --peers ID=ADDRESSES] --data DIR',
  options: {
    id: { kind: 'string', help: "this replica's ID (hex, as in the cluster: 1 is 0001)", value: 'ID' },
    peers: {
      kind: 'string',
      help: "every replica of a new cluster, this one included: ID=HOST:PEER_PORT/CLIENT_PORT or ID=HOST:PEER_PORT/CLIENT_HOST:CLIENT_PORT, comma-separated (IPv6 in brackets: [::1]:7501/7401). Needed on a new data directory only: once DIR/<ID> holds the replica, its log says who the members are, and only this replica's own addresses here are checked against its record",
      value: 'LIST',
    },
    cluster: { kind: 'string', help: 'the cluster as a file: {"replicas":[{"id":"1","peer":"host:port","client":"host:port"},...]}', value: 'FILE' },
    join: {
      kind: 'string',
      help: "join a running cluster: a member's client URL, asked for the cluster's members; --peers then gives this replica's own addresses only. It serves once an operator has added it (raftkv member add). Not asked once DIR/<ID> holds the replica (a restart)",
      value: 'URL',
    },
    data: { kind: 'string', help: "the data directory (required): the replica's log, votes and snapshot go in DIR/<ID>/", value: 'DIR' },
    'listen-peer': { kind: 'string', help: "where to listen for peers (default: this replica's peer address; 0.0.0.0:PORT or [::]:PORT for every interface)", value: 'HOST:PORT' },
    'listen-client': { kind: 'string', help: "where to listen for clients (default: this replica's client address)", value: 'HOST:PORT' },
    reads: {
      kind: 'choice',
      choices: ['readIndex', 'lease'] as const,
      default: 'readIndex',
      help: 'how the leader confirms a linearizable get: readIndex, a round of heartbeats per get (thesis §6.4, no clock trusted); lease, none while a majority acknowledged it within an election timeout (assumes bounded clock drift)',
    },
    'body-timeout': { kind: 'number', help: "seconds a request's body may take to arrive", default: LIMITS.bodyTimeoutMs / 1000, min: 0.1 },
    'snapshot-every': {
      kind: 'int',
      help: 'compact the log into a snapshot every N applied entries (§7)',
      default: standaloneSettings.limits.snapshotEvery,
      min: 1,
      value: 'N',
    },
  },
  footer: [
    'Exit codes: 0 stopped by SIGTERM or SIGINT; 2 bad arguments; 3 a data directory refused (corrupt,',
    "another replica's or another cluster's, in use); 4 a write or fsync failed; 5 an address cannot be listened on.",
    'RAFTKV_TRACE=1 writes a readable trace on stderr.',
  ].join('\n'),
} as const satisfies CommandSpec<OptionSpecs>

/** The cluster the command line gives; undefined when it gives none and the data directory holds the replica. */
const clusterFrom = (peers: string | undefined, file: string | undefined, restart: boolean): Cluster | undefined => {
  if (peers !== undefined && file !== undefined) throw new UsageError('give the cluster once: --peers LIST or --cluster FILE')
  if (peers === undefined && file === undefined) {
    if (restart) return undefined
    throw new UsageError('the data directory holds no replica of this ID yet: give the new cluster (--peers LIST or --cluster FILE) or one to join (--join URL --peers ID=HOST:PEER_PORT/CLIENT_PORT)')
  }
  const cluster = peers !== undefined ? parsePeers(peers) : readClusterFile(file!)
  if (E.isLeft(cluster)) throw new UsageError(cluster.left)
  return cluster.right
}

const MembersJson = t.type({ voters: t.array(t.string), learners: t.array(t.string), addresses: t.record(t.string, t.type({ peer: t.string, client: t.string })) })

/**
 * `--join URL`: the cluster's members and their addresses as a member reports them
 * (GET /v1/members, from the leader), with this replica's own addresses from `--peers`. Why the
 * replica asks rather than being told them: the configuration in the log is the cluster's one
 * description, and a member answers from it (docs/http-api.md).
 */
const clusterToJoin = async (url: string, id: NodeId, own: Cluster | undefined): Promise<{ readonly cluster: Cluster; readonly configuration: Configuration }> => {
  const self = own?.members.find((m) => m.id === id)
  if (self === undefined || own!.members.length !== 1) throw new UsageError('--join: give this replica\'s own addresses only, as --peers ID=HOST:PEER_PORT/CLIENT_PORT')
  const client = new RaftkvClient({ endpoints: [url], timeoutMs: 15_000 })
  let body: string
  try {
    const r = await client.request('GET', '/v1/members', undefined, undefined)
    if (r.status !== 200) throw new UsageError(`--join: ${url} answered ${r.status}: ${r.body}`)
    body = r.body
  } catch (error) {
    if (error instanceof ClientError) throw new UsageError(`--join: ${error.message}`)
    throw error
  } finally {
    client.close()
  }
  const json: unknown = JSON.parse(body)
  if (!MembersJson.is(json)) throw new UsageError(`--join: ${url} did not answer with the cluster's members`)
  const members: Member[] = [self]
  for (const [member, a] of Object.entries(json.addresses)) {
    const memberId = parseReplicaId(member)
    const peer = parseAddress(a.peer)
    const clientAddress = parseAddress(a.client)
    if (memberId === undefined || memberId === id || E.isLeft(peer) || E.isLeft(clientAddress)) continue
    members.push({ id: memberId, peer: peer.right, client: clientAddress.right })
  }
  const cluster = clusterOf(members)
  if (E.isLeft(cluster)) throw new UsageError(`--join: ${cluster.left}`)
  const ids = (list: readonly string[]): NodeId[] => list.flatMap((m) => parseReplicaId(m) ?? [])
  return { cluster: cluster.right, configuration: configuration(ids(json.voters), ids(json.learners)) }
}

const addressOption = (name: string, text: string | undefined): Address | undefined => {
  if (text === undefined) return undefined
  const address = parseAddress(text)
  if (E.isLeft(address)) throw new UsageError(`--${name}: ${address.left}`)
  return address.right
}

export const runServe = (argv: readonly string[]): Promise<number> =>
  runCommand(serveCommand, argv, async ({ options }) => {
    if (options.id === undefined) throw new UsageError('--id is required')
    const id = parseReplicaId(options.id)
    if (id === undefined) throw new UsageError(`--id: not a replica ID: ${options.id}`)
    if (options.data === undefined) throw new UsageError('--data is required: a replica of the real cluster keeps its state on disk')
    const say = (line: string): void => void process.stderr.write(`raftkv ${id}: ${line}\n`)
    // A directory that holds the replica is a restart: its log says who the members are (data-dir.ts).
    const restart = holdsReplica(options.data, id)
    const given = clusterFrom(options.peers, options.cluster, restart)
    if (options.join !== undefined && restart) say(`${options.data} holds this replica: it restarts from its log, and does not ask ${options.join} to join`)
    const joined = options.join === undefined || restart ? undefined : await clusterToJoin(options.join, id, given)
    const cluster = joined?.cluster ?? given
    const trace = process.env.RAFTKV_TRACE
      ? (line: string) => process.stderr.write(`${(performance.now() / 1000).toFixed(3)} ${id} ${line}\n`)
      : undefined
    // check:net's test-only hooks (src/net-test): a known bug, a clock it can jump. Unset, nothing changes.
    const injected = bugFromEnvironment(process.env)
    if (injected.bug !== undefined) say(`INJECTED BUG ${injected.bug}: ${BUGS[injected.bug].description}`)
    const now = clockFromEnvironment(process.env, say)
    let server
    try {
      server = await startReplica({
        ...(injected.bug === undefined ? {} : { step: injected.step }),
        ...(injected.storage === undefined ? {} : { wrapStorage: injected.storage }),
        ...(now === undefined ? {} : { now }),
        cluster,
        id,
        ...(joined === undefined ? {} : { joining: joined.configuration }),
        dataDir: options.data,
        listenPeer: addressOption('listen-peer', options['listen-peer']),
        listenClient: addressOption('listen-client', options['listen-client']),
        bodyTimeoutMs: options['body-timeout'] * 1000,
        settings: withSettings(standaloneSettings, { reads: options.reads, limits: { snapshotEvery: options['snapshot-every'] } }),
        trace,
        announce: (line) => process.stdout.write(`${line}\n`),
        notice: say,
        onStorageFailure: (message) => {
          process.stderr.write(`raftkv ${id}: stopping: ${message}\n`)
          process.exit(EXIT_STORAGE_FAILED)
        },
      })
    } catch (error) {
      if (!(error instanceof StartRefused)) throw error
      process.stderr.write(`raftkv ${id}: ${error.message}\n`)
      return error.exitCode
    }
    process.stdout.write(
      `${id}: serving clients at http://${formatAddress(server.clientAddress)} (cluster address ${formatAddress(server.member.client)}), peers at ${formatAddress(server.peerAddress)}, data in ${options.data}\n`,
    )
    return new Promise<number>((resolve) => {
      const stop = (): void => {
        server.stop()
        resolve(0)
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
  })
