/**
 * The `3700kvstore` executable: parse argv, bind a UDP socket on localhost, run the replica.
 * Quiet by default (the simulator's log reading is slow); RAFTKV_TRACE=1 writes a readable
 * per-replica trace on stderr.
 *
 * With `--data DIR` (or RAFTKV_DATA=DIR) the persistent state lives in DIR/<id>/ and a restarted
 * replica recovers it. Exit codes: 2 bad arguments, 3 a data directory that cannot be used (corrupt,
 * unreadable, another replica's or another cluster's, or in use by a running process), 4 a write or
 * sync that failed while running.
 */
import * as dgram from 'node:dgram'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/Either'
import { seedFrom } from '../domain/random'
import { lastIndex } from '../domain/log'
import { initialState } from '../domain/state'
import { DiskStorage } from '../runtime/disk-storage'
import { MemoryStorage, type Storage, type StorageFailure } from '../runtime/storage'
import type { FixedMembers } from '../runtime/data-dir'
import { ReplicaRuntime } from '../runtime/replica'
import { EventRecorder } from '../runtime/event-recorder'
import { StepTimings } from '../runtime/step-timing'
import { REPLICA_WARMUP, warmUp } from '../runtime/warmup'
import { exitWith, runCommand } from './args'
import { replicaArgs, replicaCommand, type ReplicaArgs } from './replica-args'

const LOCALHOST = '127.0.0.1'
/**
 * Linux's default receive buffer holds a few hundred datagrams; a replica that falls behind on a
 * loaded machine would lose clients' requests beyond that. Asking for more costs nothing until
 * used (Linux caps it at net.core.rmem_max; a system that refuses it leaves the default).
 */
const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024

const EXIT_BAD_DATA_DIR = 3
const EXIT_STORAGE_FAILED = 4

/** The storage the command line asks for, or the process exits saying why the directory is refused. */
const openStorage = (dataDir: string | undefined, identity: FixedMembers): Storage => {
  if (dataDir === undefined) return new MemoryStorage()
  const opened = DiskStorage.open(dataDir, identity, {
    report: (message) => process.stderr.write(`3700kvstore ${identity.id}: ${message}\n`),
  })
  if (E.isLeft(opened)) {
    process.stderr.write(`3700kvstore ${identity.id}: refusing the data directory ${dataDir}: ${opened.left.message}\n`)
    process.exit(EXIT_BAD_DATA_DIR)
  }
  return opened.right
}

const serve = (args: ReplicaArgs): void => {
  const { port, id, peers } = args
  const dataDir = args.dataDir ?? (process.env.RAFTKV_DATA || undefined)
  const storage = openStorage(dataDir, { id, peers })
  // Figure 2's persistent state as stored, with §7's snapshot: the state machine starts as the
  // snapshot, and the entries after it are applied again as this replica learns the commit index.
  const persistent = storage.recover()
  const trace = process.env.RAFTKV_TRACE
    ? (line: string) => process.stderr.write(`${(performance.now() / 1000).toFixed(3)} ${id} ${line}\n`)
    : undefined

  const statsFile = process.env.RAFTKV_STEP_STATS
  const timings = statsFile ? new StepTimings(statsFile, id) : undefined

  const seed = seedFrom(id, (Date.now() ^ process.pid) >>> 0)
  const recordDir = process.env.RAFTKV_RECORD
  const recorder = recordDir ? new EventRecorder(recordDir, { id, peers, seed }) : undefined

  const socket = dgram.createSocket('udp4')
  // Datagrams that arrive during the warm-up wait in the socket's buffer; peers send no Raft
  // traffic within their first election timeout.
  let afterHello: (() => void) | undefined =
    process.env.RAFTKV_WARMUP === '0'
      ? undefined
      : () => {
          // Only a speed-up: whatever goes wrong in it must not keep the replica from serving.
          try {
            const { events, applied } = warmUp(REPLICA_WARMUP.events, REPLICA_WARMUP.budgetMs, () => performance.now())
            trace?.(`warm-up: ${events} events, ${applied} entries applied`)
          } catch (error) {
            process.stderr.write(`3700kvstore ${id}: the warm-up failed (going on without it): ${String(error)}\n`)
          }
        }
  const runtime = new ReplicaRuntime(
    initialState({ id, peers, seed }, persistent),
    {
      now: () => performance.now(),
      // The socket is connected to the simulator's port: no address to resolve per datagram. Only
      // the hello asks to be told when it has left (to warm up after it, so that nobody's traffic
      // reaches the simulator for us before it); a send without a callback completes synchronously
      // when it can, with no second trip through the event loop.
      send: (bytes) => {
        const then = afterHello
        if (then === undefined) return socket.send(bytes)
        afterHello = undefined
        socket.send(bytes, then)
      },
      trace,
      timings,
      recorder,
      storage,
      onStorageFailure: (failure: StorageFailure) => {
        process.stderr.write(`3700kvstore ${id}: stopping: ${failure.message}\n`)
        try {
          socket.close()
        } catch {
          // already closed
        }
        process.exit(EXIT_STORAGE_FAILED)
      },
    },
  )
  trace?.(`recovered term ${persistent.currentTerm}, ${lastIndex(persistent.log)} log entries (${persistent.log.snapshotIndex} of them in a snapshot)${dataDir === undefined ? ' (in memory)' : ` from ${dataDir}`}`)

  const shutdown = (): void => {
    runtime.stop()
    timings?.flush()
    recorder?.flush()
    try {
      socket.close()
    } catch {
      // already closed
    }
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  socket.on('message', (bytes) => runtime.onDatagram(bytes))
  socket.on('error', (error) => trace?.(`socket error: ${error.message}`))
  socket.bind(0, LOCALHOST, () => {
    try {
      socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES)
    } catch (error) {
      trace?.(`kept the default receive buffer: ${String(error)}`)
    }
    socket.connect(port, LOCALHOST, () => runtime.start())
  })
}

exitWith(runCommand(replicaCommand, process.argv.slice(2), ({ options, positionals }) => serve(replicaArgs(options, positionals))))
