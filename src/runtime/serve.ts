/**
 * One replica of the real cluster (`raftkv serve`): the same reducer the course's simulator runs,
 * behind a second transport (TCP to each peer at its own address, net/tcp-transport.ts) and an
 * HTTP client front end (http/server.ts), on disk in its data directory.
 *
 * What differs from the course's `3700kvstore` is settings and the shell, not Raft: clients are
 * answered the standalone way (domain/state.ts `clients`), and events are stepped in batches, so
 * that the puts of one event-loop turn share one write and one fsync (etcd's Ready).
 */
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import * as O from 'fp-ts/Option'
import { read } from '../domain/kv'
import { seedFrom } from '../domain/random'
import { standaloneSettings, type Settings } from '../domain/config'
import { allVoters, configuration, describeConfiguration, isMember, othersIn, sameConfiguration, type Configuration } from '../domain/membership'
import { initialState, type ReplicaState } from '../domain/state'
import { replicaStatus } from '../domain/status'
import type { NodeId } from '../domain/wire'
import type { HardState, LogWrite, SnapshotWrite } from '../domain/effect'
import { DiskStorage } from './disk-storage'
import { ClientApi, FRONT_END_CLIENT } from './http/server'
import { Histogram, type MetricFamily } from './http/metrics'
import {
  addressesOnStart,
  clientOrigin,
  clusterOf,
  formatAddress,
  parseAddress,
  recordCluster,
  type Address,
  type Cluster,
  type Member,
} from './net/cluster'
import { DataDirError, holdsReplica } from './data-dir'
import { PeerTransport } from './net/tcp-transport'
import { ReplicaRuntime, type ReplicaIO } from './replica'
import type { Storage, StorageFailure } from './storage'

export interface ServeOptions {
  /**
   * The cluster the command line gives (`--peers`, `--cluster`). On a new data directory its
   * members, all voters, are the bootstrap configuration (thesis ch. 4: what the replica uses until
   * its log holds one), recorded with their addresses. Once the directory holds the replica, its
   * log and its record say who and where the members are (data-dir.ts), and of this only the
   * replica's own addresses are used, which must be the recorded ones. Undefined: the directory
   * must hold the replica.
   */
  readonly cluster: Cluster | undefined
  readonly id: NodeId
  /**
   * Joining a running cluster (`raftkv serve --join`): its configuration as a member reported it,
   * the bootstrap of a new data directory. The replica starts outside it, as a non-member that
   * neither campaigns nor serves, until a leader's log adds it (`raftkv member add`). `cluster`
   * then holds the members' addresses.
   */
  readonly joining?: Configuration
  readonly dataDir: string
  /** Where to listen for peers and for clients; default: the member's own addresses. */
  readonly listenPeer?: Address
  readonly listenClient?: Address
  readonly settings?: Settings
  /** How long a request's body may take to arrive (default: the API's documented 10 s). */
  readonly bodyTimeoutMs?: number
  readonly trace?: (line: string) => void
  /** Told of role and leader changes, one line each. */
  readonly announce?: (line: string) => void
  /** Told of what the start did not use of the options, one line each (members the log overrides). */
  readonly notice?: (line: string) => void
  /** Told when the storage failed; the replica has stopped. */
  readonly onStorageFailure: (message: string) => void
  /** The clock (default: performance.now); check:net moves it ahead to jump a replica's clock. */
  readonly now?: () => number
  /** The reducer (default: the domain's); check:net injects known bugs through it (ReplicaIO.step). */
  readonly step?: ReplicaIO['step']
  /** Put around the data directory's storage (default: nothing); check:net injects known bugs through it. */
  readonly wrapStorage?: (inner: Storage) => Storage
}

/** Why a replica would not start: the exit code and the message. */
export class StartRefused extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message)
  }
}

export const EXIT_BAD_DATA_DIR = 3
export const EXIT_STORAGE_FAILED = 4
export const EXIT_CANNOT_LISTEN = 5

export interface ReplicaServer {
  /** This replica as the cluster knows it: its ID and the addresses the other members reach it at. */
  readonly member: Member
  readonly peerAddress: Address
  readonly clientAddress: Address
  readonly state: () => ReplicaState
  readonly stop: () => void
}

type BackgroundStorage = Storage & Required<Pick<Storage, 'persistInBackground'>>

const persistsInBackground = (storage: Storage): storage is BackgroundStorage => storage.persistInBackground !== undefined

/** A Storage that times each persist (the fsync histogram of /metrics). */
class TimedStorage implements Storage {
  readonly persistSeconds = new Histogram()

  constructor(private readonly inner: BackgroundStorage) {}

  persist(hardState: HardState | undefined, log: LogWrite | undefined, snapshot?: SnapshotWrite): void {
    const began = performance.now()
    this.inner.persist(hardState, log, snapshot)
    this.persistSeconds.observe((performance.now() - began) / 1000)
  }

  persistInBackground(
    hardState: HardState | undefined,
    log: LogWrite | undefined,
    snapshot: SnapshotWrite | undefined,
    done: (failure?: StorageFailure) => void,
  ): void {
    const began = performance.now()
    this.inner.persistInBackground(hardState, log, snapshot, (failure) => {
      this.persistSeconds.observe((performance.now() - began) / 1000)
      done(failure)
    })
  }

  recover() {
    return this.inner.recover()
  }

  close(): void {
    this.inner.close()
  }
}

/** What /metrics says of Raft, counted from the states the runtime steps through. */
class RaftCounters {
  elections = 0
  leaderChanges = 0
  committed = 0
  private role: string | undefined
  private leader: string | undefined
  private commitIndex: number | undefined

  constructor(private readonly announce: ((line: string) => void) | undefined) {}

  observe(s: ReplicaState): void {
    const leader = O.isSome(s.leader) ? s.leader.value : undefined
    if (this.commitIndex !== undefined && s.commitIndex > this.commitIndex) this.committed += s.commitIndex - this.commitIndex
    this.commitIndex = s.commitIndex
    if (s.role !== this.role) {
      if (s.role === 'candidate') this.elections++
      if (s.role === 'leader' || this.role === 'leader') {
        this.announce?.(`${s.id}: ${s.role} in term ${s.persistent.currentTerm}`)
      }
      this.role = s.role
    }
    if (leader !== this.leader) {
      if (leader !== undefined) {
        this.leaderChanges++
        if (leader !== s.id) this.announce?.(`${s.id}: follows ${leader} in term ${s.persistent.currentTerm}`)
      }
      this.leader = leader
    }
  }
}

/**
 * The data directory opened, and what the start takes from the options (data-dir.ts). A new
 * directory records the cluster given (or joined) as its bootstrap; once it holds the replica, the
 * members come from it, and of the options only the replica's own addresses are checked. `given`:
 * the cluster the options give that names this replica.
 */
const openDataDirectory = (options: ServeOptions): { storage: DiskStorage; cluster: Cluster; restarted: boolean; given: Cluster | undefined } => {
  const { id, dataDir } = options
  const restarted = holdsReplica(dataDir, id)
  let given = options.cluster
  if (given !== undefined && !given.members.some((m) => m.id === id)) {
    const named = given.members.map((m) => m.id).join(', ')
    if (!restarted) throw new StartRefused(2, `replica ${id} is not in the cluster (${named})`)
    options.notice?.(`the members given (${named}) do not name this replica; ${path.join(dataDir, id)} holds it, and they are not used`)
    given = undefined
  }
  const bootstrap = options.joining ?? (given === undefined ? undefined : allVoters(given.members.map((m) => m.id)))
  const opened = DiskStorage.open(dataDir, { id, bootstrap })
  const refused = (message: string): StartRefused => new StartRefused(EXIT_BAD_DATA_DIR, `refusing the data directory ${dataDir}: ${message}`)
  if (E.isLeft(opened)) throw refused(opened.left.message)
  const addresses = addressesOnStart(path.join(dataDir, id), given, id)
  if (E.isLeft(addresses)) {
    opened.right.close()
    const { otherAddresses, message } = addresses.left
    throw refused(new DataDirError(otherAddresses ? 'otherCluster' : 'unusable', message).message)
  }
  return { storage: opened.right, cluster: addresses.right, restarted, given }
}

export const startReplica = async (options: ServeOptions): Promise<ReplicaServer> => {
  const { id } = options
  const opened = openDataDirectory(options)
  const member = opened.cluster.members.find((m) => m.id === id)!
  // The configuration this replica starts from when its log and snapshot hold none (data-dir.ts).
  const { bootstrap: initialConfiguration } = opened.storage.identity
  const wrapped = options.wrapStorage === undefined ? opened.storage : options.wrapStorage(opened.storage)
  if (!persistsInBackground(wrapped)) throw new Error('the storage put around the data directory cannot persist in the background')
  const storage = new TimedStorage(wrapped)
  const now = options.now ?? ((): number => performance.now())
  const seed = seedFrom(id, (Date.now() ^ process.pid) >>> 0)
  const initial = initialState(
    {
      id,
      peers: othersIn(initialConfiguration, id),
      seed,
      settings: options.settings ?? standaloneSettings,
      initialConfiguration,
    },
    storage.recover(),
  )
  const inUse = initial.configuration
  const givenIds = opened.given?.members.map((m) => m.id) ?? []
  if (opened.restarted && givenIds.length > 1 && !sameConfiguration(allVoters(givenIds), configuration(inUse.voters, inUse.learners))) {
    options.notice?.(
      `the data directory holds this replica, whose configuration is ${describeConfiguration(inUse)} (from its log); the members given (${givenIds.join(',')}) are not used`,
    )
  }
  const counters = new RaftCounters(options.announce)
  counters.observe(initial)

  let runtime: ReplicaRuntime | undefined
  // Every member's addresses this replica knows: its record's, then the log's.
  const known = new Map<NodeId, Member>(opened.cluster.members.map((m) => [m.id, m]))
  const origins = new Map([...known.values()].map((m) => [m.id, clientOrigin(m)]))
  const transport = new PeerTransport(new Map([...known.values()].filter((m) => m.id !== id).map((m) => [m.id, m.peer])), {
    now,
    onMessage: (message) => runtime?.onMessage(message),
    trace: options.trace,
  })
  const addressBook = (): Record<string, { peer: string; client: string }> => {
    const book: Record<string, { peer: string; client: string }> = {}
    for (const m of known.values()) book[m.id] = { peer: formatAddress(m.peer), client: formatAddress(m.client) }
    return book
  }
  /**
   * The configuration in the log is the cluster's one description (thesis §4.1, taken into use when
   * appended): a member it adds is connected to at the addresses its entry carries, and
   * DATA/<ID>/cluster.json is rewritten to its members and this replica, for the next start.
   */
  let followed: Configuration | undefined
  const followConfiguration = (c: Configuration): void => {
    if (c === followed) return
    followed = c
    for (const [member, a] of Object.entries(c.addresses ?? {})) {
      const peer = parseAddress(a.peer)
      const client = parseAddress(a.client)
      if (E.isLeft(peer) || E.isLeft(client)) continue
      const m: Member = { id: member as NodeId, peer: peer.right, client: client.right }
      known.set(m.id, m)
      origins.set(m.id, clientOrigin(m))
      if (m.id !== id) transport.addPeer(m.id, m.peer)
    }
    const members = [...c.voters, ...c.learners, ...(isMember(c, id) ? [] : [id])].flatMap((member) => known.get(member) ?? [])
    const view = clusterOf(members)
    if (E.isRight(view)) {
      const written = recordCluster(path.join(options.dataDir, id), view.right)
      if (E.isLeft(written)) options.trace?.(written.left)
    }
  }
  const api = new ClientApi({
    self: id,
    origins,
    addressBook,
    status: () => replicaStatus(runtime!.current),
    localRead: (key) => read(runtime!.current.kv, key),
    submit: (request) => runtime?.onMessage(request),
    replicaMetrics: () => replicaFamilies(runtime!.current, counters, storage, transport),
    bodyTimeoutMs: options.bodyTimeoutMs,
    trace: options.trace,
  })
  runtime = new ReplicaRuntime(initial, {
    now,
    send: () => {},
    route: (message) => {
      if (message.dst === FRONT_END_CLIENT) api.onReply(message)
      else transport.send(message)
    },
    batch: true,
    ...(options.step === undefined ? {} : { step: options.step }),
    flush: () => transport.flush(),
    afterStep: () => {
      counters.observe(runtime!.current)
      followConfiguration(runtime!.current.configuration)
    },
    trace: options.trace,
    storage,
    onStorageFailure: (failure) => {
      transport.close()
      api.close()
      options.onStorageFailure(failure.message)
    },
  })

  let peerAddress: Address
  let clientAddress: Address
  try {
    peerAddress = await transport.listen(options.listenPeer ?? member.peer)
    clientAddress = await api.listen(options.listenClient ?? member.client)
  } catch (error) {
    transport.close()
    api.close()
    runtime.stop()
    throw new StartRefused(EXIT_CANNOT_LISTEN, `cannot listen: ${(error as Error).message}`)
  }
  followConfiguration(initial.configuration)
  runtime.start()
  options.trace?.(`peers at ${formatAddress(peerAddress)}, clients at ${formatAddress(clientAddress)}`)
  return {
    member,
    peerAddress,
    clientAddress,
    state: () => runtime!.current,
    stop: () => {
      runtime!.stop()
      transport.close()
      api.close()
    },
  }
}

const replicaFamilies = (s: ReplicaState, counters: RaftCounters, storage: TimedStorage, transport: PeerTransport): MetricFamily[] => {
  const status = replicaStatus(s)
  const t = transport.counters
  return [
    { name: 'raftkv_term', help: 'The replica\'s current term.', type: 'gauge', lines: [`raftkv_term ${status.term}`] },
    { name: 'raftkv_is_leader', help: '1 on the leader, else 0.', type: 'gauge', lines: [`raftkv_is_leader ${status.role === 'leader' ? 1 : 0}`] },
    { name: 'raftkv_commit_index', help: 'The highest log index known committed.', type: 'gauge', lines: [`raftkv_commit_index ${status.commitIndex}`] },
    { name: 'raftkv_applied_index', help: 'The highest log index applied to the state machine.', type: 'gauge', lines: [`raftkv_applied_index ${status.appliedIndex}`] },
    { name: 'raftkv_committed_entries_total', help: 'Log entries this replica saw committed since it started.', type: 'counter', lines: [`raftkv_committed_entries_total ${counters.committed}`] },
    { name: 'raftkv_elections_total', help: 'Elections this replica started as a candidate.', type: 'counter', lines: [`raftkv_elections_total ${counters.elections}`] },
    { name: 'raftkv_leader_changes_total', help: 'Times this replica learned of a new leader.', type: 'counter', lines: [`raftkv_leader_changes_total ${counters.leaderChanges}`] },
    { name: 'raftkv_storage_persist_seconds', help: 'One persist: the write and the fdatasync of a batch of steps.', type: 'histogram', lines: storage.persistSeconds.render('raftkv_storage_persist_seconds') },
    {
      name: 'raftkv_peer_frames_total',
      help: 'Frames between replicas: sent, received, and dropped for want of a connection.',
      type: 'counter',
      lines: [`raftkv_peer_frames_total{direction="sent"} ${t.framesSent}`, `raftkv_peer_frames_total{direction="received"} ${t.framesReceived}`, `raftkv_peer_frames_total{direction="dropped"} ${t.framesDropped}`],
    },
    { name: 'raftkv_peer_connects_total', help: 'Connections made to peers.', type: 'counter', lines: [`raftkv_peer_connects_total ${t.connectsMade}`] },
  ]
}
