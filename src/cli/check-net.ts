/**
 * `npm run check:net`: a Jepsen-style run of five `raftkv serve` replicas, each in its own network
 * namespace, under the seeded nemesis, judged by the linearizability checker (README, "Real faults
 * on a real network").
 */
import * as path from 'node:path'
import { exitWith, runCommand, type CommandSpec, type OptionSpecs } from './args'
import { repoRoot } from '../sim/paths'
import { BUGS, BUG_ENV, readsFor, type BugName } from '../net-test/bugs'
import { CLOCK_JUMP_ENV, jumpClock, jumpFile } from '../net-test/clock-jump'
import { EXIT, runCheck } from '../net-test/run'
import { checkNetTimeline } from '../timeline/check-net'
import { writeTimeline } from '../timeline/page'
import type { ReplicaCommand } from '../net-test/replicas'

/** Ports inside each replica's namespace (each namespace has ports of its own: nothing to collide with). */
const PEER_PORT = 7000
const CLIENT_PORT = 8080
/** `raftkv serve`'s longest election timeout (domain/state.ts's tuning): pauses last longer. */
const ELECTION_TIMEOUT_MAX_MS = 2_500

const command = {
  name: 'check:net',
  summary: 'A real cluster under real faults: five `raftkv serve` replicas in network namespaces, a seeded nemesis, clients recording a history, a linearizability verdict.',
  synopsis: '[options]',
  options: {
    seed: { kind: 'int', help: 'the nemesis and the workload depend on it alone', default: 1, min: 0 },
    duration: { kind: 'number', help: 'seconds the clients run, recovery included (at least 40)', default: 60, min: 40 },
    replicas: { kind: 'int', help: 'replicas in the cluster', default: 5, min: 3, max: 9 },
    recovery: { kind: 'number', help: 'seconds at the end with every fault healed', default: 20, min: 5 },
    'recovery-bound': { kind: 'number', help: 'seconds within which every client must be served again once every fault has healed', default: 15, min: 1 },
    history: { kind: 'string', help: "write the clients' history there (JSON lines in Jepsen's shape)", value: 'FILE' },
    bug: { kind: 'choice', choices: Object.keys(BUGS), help: 'inject a known bug into every replica (to show the test finds it)' },
    reads: { kind: 'choice', choices: ['readIndex', 'lease'], help: "how the replicas confirm gets (raftkv serve --reads); default: the lease for a bug of the lease, else raftkv serve's default (readIndex)" },
    keep: { kind: 'flag', help: 'keep the work directory (data directories, logs) even when the run passes' },
    timeline: { kind: 'string', help: 'write a timeline page (HTML) of the run: the replicas\' roles, the faults, every operation, the failing window', value: 'FILE' },
  },
  footer: [
    'Needs root, iptables and iproute2. Everything it makes is removed when it ends, however it ends;',
    'a run killed by SIGKILL is swept by the next one.',
    `Exit codes: ${EXIT.passed} passed; ${EXIT.failed} failed (a violation, a lost write, a crashed replica, a client not served again in time);`,
    `${EXIT.usage} bad arguments; ${EXIT.harness} the cluster never started; ${EXIT.noNamespaces} network namespaces cannot be made here.`,
  ].join('\n'),
} as const satisfies CommandSpec<OptionSpecs>

/** Each replica as `raftkv serve`, with the whole cluster given by --peers, on its data directory. */
export const serveCommand =
  (bug: BugName | undefined, reads?: 'readIndex' | 'lease'): ReplicaCommand =>
  (replica, topology) => {
    const hex = (index: number): string => index.toString(16)
    const peers = topology.replicas.map((r) => `${hex(r.index)}=${r.address}:${PEER_PORT}/${CLIENT_PORT}`).join(',')
    return {
      argv: [process.execPath, path.join(repoRoot(), 'dist', 'src', 'cli', 'raftkv.js'), 'serve', '--id', hex(replica.index), '--peers', peers, '--data', replica.dataDir, ...(reads === undefined ? [] : ['--reads', reads])],
      env: { [CLOCK_JUMP_ENV]: jumpFile(replica.dataDir), ...(bug === undefined ? {} : { [BUG_ENV]: bug }) },
    }
  }

const main = (argv: readonly string[]): Promise<number> =>
  runCommand(command, argv, async ({ options }) => {
    const durationMs = options.duration * 1000
    const recoveryMs = options.recovery * 1000
    if (durationMs - recoveryMs < 20_000) throw new Error('--duration must leave at least 20 s of faults before the recovery')
    if (options.bug !== undefined) process.stdout.write(`injected bug: ${options.bug}: ${BUGS[options.bug as BugName].description}\n`)
    const reads = (options.reads as 'readIndex' | 'lease' | undefined) ?? (options.bug === undefined ? undefined : readsFor(options.bug as BugName))
    if (reads !== undefined) process.stdout.write(`the replicas confirm gets by ${reads === 'lease' ? 'the lease' : 'ReadIndex'} (raftkv serve --reads ${reads})\n`)
    const result = await runCheck({
      seed: options.seed,
      replicas: options.replicas,
      durationMs,
      warmupMs: 3_000,
      recoveryMs,
      recoveryBoundMs: options['recovery-bound'] * 1000,
      electionTimeoutMaxMs: ELECTION_TIMEOUT_MAX_MS,
      replicaCommand: serveCommand(options.bug as BugName | undefined, reads),
      clientUrl: (address) => `http://${address}:${CLIENT_PORT}`,
      jumpClock: (supervisor, replica, jumpMs) => jumpClock(supervisor.dataDir(replica), jumpMs),
      ...(options.history === undefined ? {} : { historyFile: options.history }),
      keep: options.keep,
    })
    if (options.timeline !== undefined && result.record !== undefined) {
      writeTimeline(options.timeline, checkNetTimeline(result.record, options.replicas))
      process.stdout.write(`timeline: ${path.resolve(options.timeline)}\n`)
    }
    return result.code
  })

exitWith(main(process.argv.slice(2)))
