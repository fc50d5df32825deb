/**
 * The thin socket layer: one UDP socket per replica, the replica processes, and the timers that
 * drive a Simulation. Event-driven: no polling loop.
 */
import * as dgram from 'dgram'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { AddressInfo } from 'net'
import { Prng, randomStreams } from './prng'
import { crash, ReplicaProcess, signalGroup, spawnReplica, terminate } from './processes'
import { runDuration, Scenario } from './scenario'
import { Score, score } from './scoring'
import { Effect, FiredEvent, Simulation, SimulationObserver } from './simulation'
import { createRoutingSocket, enlargeBuffers, kernelCharge, receiveDrops } from './socket-buffers'
import { COURSE_PACING, Pacer, PacingCosts } from './pacing'
import type { Workload } from '../check/workload'
import type { StaleGet } from './client-pool'

export interface RunOptions {
  /** The replica program to start. */
  replica: string
  seed: number
  /** Replicas' output to /dev/null (default) or printed with time and ID. */
  silent: boolean
  /** Working directory of the replicas (files named after replica IDs are deleted there first). */
  cwd: string
  /** Called about 4 times a second while the run goes, for a progress line. */
  onProgress?: (progress: Progress) => void
  /** Where replica lines go when not silent. */
  log?: (line: string) => void
  /** Watches the run (for a timeline page); it changes nothing. */
  observer?: SimulationObserver
  /**
   * How datagrams are routed: at the course simulator's pace (the default, COURSE_PACING: one
   * datagram per readable socket per round, costs burnt as CPU time, requests and events fired
   * when a round ends; see pacing.ts), with other costs, or 'fast': each datagram routed the
   * moment Node reads it, and requests and events fired by their own timers.
   */
  pacing?: Readonly<PacingCosts> | 'fast'
  /**
   * Replicas keep their persistent state on disk: each run gets a temporary data directory, given
   * to every replica as RAFTKV_DATA and removed after the run. Always so for a scenario with a
   * `restart` event (a replica restarted without its data would have forgotten its votes and log).
   */
  durable?: boolean
  /** Which keys the clients use (client-pool.ts): `own` (the course simulator's, the default) or `shared`. */
  workload?: Workload
}

export interface Progress {
  elapsed: number
  duration: number
  answered: number
  leader: string
  totalMsgs: number
}

export interface RunResult {
  scenario: Scenario
  seed: number
  replica: string
  score: Score
  elapsedSeconds: number
  stopReason: string
  /** Where the replicas kept their state (RAFTKV_DATA), removed after the run; undefined: in memory. */
  dataDir?: string
  /** 'fast', or 'paced' (the course simulator's pace). */
  pacing?: 'fast' | 'paced'
  /** Routing rounds played when paced (idle ones included); 0 when fast. */
  rounds?: number
  /**
   * Paced: datagrams dropped because a replica's socket at the simulator was full (pacing.ts,
   * socketQueueBytes), as the course's simulator's kernel drops them; 0 when fast.
   */
  socketOverflows?: number
  events: FiredEvent[]
  died: { replica: string; at: number; reason: string }[]
  /** `staleGet`: a get the course's per-client rule calls incorrect (client-pool.ts). */
  incorrect: { at: number; reason: string; staleGet?: StaleGet }[]
  /** Replicas whose process ended without a kill (the course's simulator would not notice). */
  unexpectedExits: string[]
  /** Kill events whose replica took long to exit after SIGTERM (with `graceful_stop`). */
  slowExits: { replica: string; seconds: number }[]
  history: Simulation['clients']['history']
  /**
   * Datagrams the kernel dropped on their way into kvsim's own sockets (receive buffer full), which
   * breaks the protocol's promise that client traffic is never lost; undefined where not measurable.
   */
  harnessDrops: number | undefined
}

interface Endpoint {
  socket: dgram.Socket
  open: boolean
  address?: { address: string; port: number }
}

interface Arrival {
  bytes: Buffer
  from: dgram.RemoteInfo
}

export async function runScenario(scenario: Scenario, options: RunOptions): Promise<RunResult> {
  const random = randomStreams(options.seed)
  const sim = new Simulation(scenario, random, options.observer, options.workload)
  const endpoints = new Map<string, Endpoint>()
  const processes = new Map<string, ReplicaProcess>()
  const killing: Promise<void>[] = []
  const restarting: Promise<void>[] = []
  /** Set once the run is over: a restart still waiting for its old process starts nothing. */
  let over = false
  const durable = options.durable === true || scenario.events.some((event) => event.type === 'restart')
  const dataDir = durable ? fs.mkdtempSync(path.join(os.tmpdir(), 'kvsim-data-')) : undefined
  /** Each replica's peers in the order its command line gives them, the same at a restart. */
  const peersOf = new Map<string, string[]>()
  const slowExits: RunResult['slowExits'] = []
  const timers: NodeJS.Timeout[] = []
  const costs = options.pacing === 'fast' ? undefined : options.pacing ?? COURSE_PACING
  /** Paced: requests and events wait here, in time order, for the end of a round. */
  const agenda: { at: number; action: () => void }[] = []
  let startedAt = 0
  const now = (): number => (performance.now() - startedAt) / 1000

  let finish!: (reason: string) => void
  const finished = new Promise<string>((resolve) => {
    finish = resolve
  })

  let pacer: Pacer<Arrival> | undefined
  let harnessDrops: number | undefined = 0
  const closeEndpoint = (id: string): void => {
    const endpoint = endpoints.get(id)
    if (!endpoint || !endpoint.open) return
    endpoint.open = false
    // The kernel's count goes with the socket: read it first.
    const drops = receiveDrops(new Set([(endpoint.socket.address() as AddressInfo).port]))
    harnessDrops = drops === undefined || harnessDrops === undefined ? undefined : harnessDrops + drops
    endpoint.socket.close()
    pacer?.close(id)
  }

  const stopProcess = (id: string, measure: boolean): void => {
    const replica = processes.get(id)
    if (!replica) return
    killing.push(
      terminate(replica).then((seconds) => {
        if (measure && seconds > 1) slowExits.push({ replica: id, seconds })
      }),
    )
  }

  const crashProcess = (id: string): void => {
    const replica = processes.get(id)
    if (replica) killing.push(crash(replica))
  }

  let restart: (id: string) => Promise<void> = async () => undefined

  const apply = (effects: Effect[], created = false): void => {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send': {
          const endpoint = endpoints.get(effect.to)
          if (!endpoint?.open || !endpoint.address) break
          if (pacer) {
            if (created) pacer.request()
            pacer.copy()
          }
          endpoint.socket.send(effect.bytes, endpoint.address.port, endpoint.address.address, (error) => {
            if (error) sim.noteBlocked()
          })
          break
        }
        case 'kill':
          closeEndpoint(effect.replica)
          // A crash (SIGKILL), unless the scenario asks for the course's graceful stop: a replica
          // on disk must come back from what a crash leaves.
          if (scenario.gracefulStop) stopProcess(effect.replica, true)
          else crashProcess(effect.replica)
          break
        case 'restart':
          restarting.push(restart(effect.replica))
          break
        case 'close':
          closeEndpoint(effect.replica)
          stopProcess(effect.replica, false)
          break
        case 'stop':
          finish(effect.reason)
          break
        case 'hello':
          break // the address is recorded where the datagram is read
      }
    }
  }

  try {
    deleteReplicaFiles(options.cwd, sim.replicas)
    for (const id of sim.replicas) endpoints.set(id, await openEndpoint())

    const route = (id: string, { bytes, from }: Arrival): void => {
      const endpoint = endpoints.get(id)!
      if (!endpoint.open) return
      const effects = sim.onDatagram(id, bytes, now())
      if (effects.some((effect) => effect.type === 'hello')) endpoint.address = { address: from.address, port: from.port }
      // A copy of a routed datagram carries the bytes received; other bytes are a client's retry,
      // a request created now.
      const copies = effects.filter((effect) => effect.type !== 'send' || effect.bytes === bytes)
      const retries = effects.filter((effect) => effect.type === 'send' && effect.bytes !== bytes)
      apply(copies)
      apply(retries, true)
    }
    if (costs) {
      pacer = new Pacer<Arrival>(
        sim.replicas,
        costs,
        {
          route,
          fireDue: () => {
            const at = now()
            while (agenda.length > 0 && agenda[0]!.at < at && !sim.stopped) agenda.shift()!.action()
          },
        },
        (arrival) => kernelCharge(arrival.bytes.length),
      )
    }
    const listen = (id: string, endpoint: Endpoint): void => {
      endpoint.socket.on('message', (bytes, from) => {
        if (!endpoint.open) return
        if (pacer) pacer.receive(id, { bytes, from })
        else route(id, { bytes, from })
      })
    }
    for (const id of sim.replicas) listen(id, endpoints.get(id)!)

    const start = (id: string): void => {
      const port = (endpoints.get(id)!.socket.address() as AddressInfo).port
      processes.set(id, spawnReplica(id, {
        program: options.replica,
        args: [String(port), id, ...peersOf.get(id)!],
        cwd: options.cwd,
        env: dataDir === undefined ? undefined : { RAFTKV_DATA: dataDir },
        onLine: options.silent ? undefined : (line) => (options.log ?? console.log)(`[${now().toFixed(3).padStart(8)} ${id}] ${line}`),
      }))
    }
    // kvsim's restart: once the killed process has exited (its data directory is then its own), a
    // new socket and the same command line with that socket's port; the replica says hello again.
    restart = async (id: string): Promise<void> => {
      await processes.get(id)?.exited
      if (over) return
      const endpoint = await openEndpoint()
      if (over) {
        endpoint.socket.close()
        return
      }
      endpoints.set(id, endpoint)
      listen(id, endpoint)
      pacer?.reopen(id)
      start(id)
    }

    const peerOrder = new Prng(options.seed, 4)
    for (const id of sim.replicas) {
      peersOf.set(id, peerOrder.sample(sim.replicas.filter((other) => other !== id), sim.replicas.length - 1))
      start(id)
    }
    startedAt = performance.now()
    pacer?.start()

    const duration = runDuration(scenario)
    const timer = (seconds: number, action: () => void): void => {
      timers.push(setTimeout(action, Math.max(0, seconds * 1000 - (performance.now() - startedAt))))
    }
    // Fast: one timer per request is simple and cheap (a few hundred); each fires once at its time.
    // Paced: they wait in the agenda for the end of a round (requests before events due at the
    // same time).
    const at = (seconds: number, action: () => void): void => {
      if (pacer) agenda.push({ at: seconds, action })
      else timer(seconds, action)
    }
    const interval = scenario.lifetime / scenario.requests
    for (let i = 0; i < scenario.requests; i++) at(scenario.startWait + i * interval, () => apply(sim.onRequestDue(now()), true))
    for (const event of scenario.events) at(scenario.startWait + event.time, () => apply(sim.onEvent(event.type, now())))
    agenda.sort((a, b) => a.at - b.at)
    timer(duration, () => finish('time is up'))
    if (options.onProgress) {
      const report = options.onProgress
      const progress = setInterval(() => report({
        elapsed: now(), duration, answered: sim.clients.answered(), leader: sim.leader, totalMsgs: sim.network.totalMsgs,
      }), 250)
      timers.push(progress)
    }

    const stopReason = await finished
    pacer?.stop()
    if (sim.stopReason === undefined) sim.stopReason = stopReason
    const elapsedSeconds = now()
    for (const timer of timers) clearTimeout(timer)
    for (const id of sim.replicas) closeEndpoint(id)

    const unexpectedExits = [...processes.values()]
      .filter((p) => p.hasExited() && !sim.isDown(p.id) && !sim.died.some((d) => d.replica === p.id))
      .map((p) => `${p.id}${p.unexpectedExit ? ` (${p.unexpectedExit})` : ''}`)

    return {
      scenario,
      seed: options.seed,
      replica: options.replica,
      score: score(sim),
      elapsedSeconds,
      stopReason,
      dataDir,
      pacing: pacer ? 'paced' : 'fast',
      rounds: pacer?.rounds ?? 0,
      socketOverflows: pacer?.overflowed ?? 0,
      events: sim.firedEvents,
      died: sim.died,
      incorrect: sim.incorrect,
      unexpectedExits,
      slowExits,
      history: sim.clients.history,
      harnessDrops,
    }
  } finally {
    over = true
    await Promise.all(restarting)
    pacer?.stop()
    for (const timer of timers) clearTimeout(timer)
    for (const id of endpoints.keys()) closeEndpoint(id)
    for (const id of processes.keys()) stopProcess(id, false)
    await Promise.all(killing)
    for (const replica of processes.values()) if (replica.child.pid !== undefined) signalGroup(replica.child.pid, 'SIGKILL')
    await Promise.all([...processes.values()].map((replica) => replica.exited))
    if (dataDir !== undefined) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

function openEndpoint(): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const socket = createRoutingSocket()
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject)
      enlargeBuffers(socket)
      socket.on('error', () => undefined) // send errors are reported through the send callback
      resolve({ socket, open: true })
    })
  })
}

/** The protocol's simulator deletes files named after replica IDs in its working directory. */
function deleteReplicaFiles(cwd: string, ids: readonly string[]): void {
  for (const id of ids) {
    const file = path.join(cwd, id)
    try {
      if (fs.statSync(file).isFile()) fs.unlinkSync(file)
    } catch {
      // No such file.
    }
  }
}
