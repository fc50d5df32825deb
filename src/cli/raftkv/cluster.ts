/**
 * `raftkv cluster up`: a local cluster on loopback in the foreground, one `raftkv serve` process per
 * replica, their lines on this terminal; Ctrl-C (or SIGTERM) stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { clusterToJson, readClusterFile, sameCluster, CLUSTER_FILE } from '../../runtime/net/cluster'
import { runCommand, runSubcommands, UsageError, type CommandSpec, type OptionSpecs } from '../args'
import { localCluster, LOCAL_CLIENT_PORT, LOCAL_PEER_PORT } from './local'

export const clusterUpCommand = {
  name: 'raftkv cluster up',
  summary: 'Starts a local cluster on loopback in the foreground, a line per replica event; Ctrl-C stops it.',
  synopsis: '[options]',
  options: {
    replicas: { kind: 'choice', choices: ['1', '3', '5'], default: '3', help: 'how many replicas (1: a lone replica, durable but with no copy elsewhere)' },
    dir: { kind: 'string', default: 'raftkv-data', help: "where the replicas keep their data (DIR/<ID>/) and the cluster's description (DIR/cluster.json)", value: 'DIR' },
    'client-port': { kind: 'int', default: LOCAL_CLIENT_PORT, min: 1, max: 65530, help: 'the first replica\'s client port; the others follow' },
    'peer-port': { kind: 'int', default: LOCAL_PEER_PORT, min: 1, max: 65530, help: 'the first replica\'s peer port; the others follow' },
  },
  footer: 'Started again on the same --dir, the replicas recover their data. The client commands find this cluster by default (its ports are theirs).',
} as const satisfies CommandSpec<OptionSpecs>

const RAFTKV_JS = path.resolve(__dirname, '../raftkv.js')

export const runClusterUp = (argv: readonly string[]): Promise<number> =>
  runCommand(clusterUpCommand, argv, async ({ options }) => {
    const replicas = Number(options.replicas)
    const cluster = localCluster(replicas, options['client-port'], options['peer-port'])
    const dir = path.resolve(options.dir)
    fs.mkdirSync(dir, { recursive: true })
    const file = path.join(dir, CLUSTER_FILE)
    if (fs.existsSync(file)) {
      const existing = readClusterFile(file)
      if (E.isLeft(existing)) throw new UsageError(`${existing.left}; remove it or give another --dir`)
      if (!sameCluster(existing.right, cluster)) {
        throw new UsageError(
          `${dir} holds another cluster (${existing.right.members.length} replicas, clients from port ${existing.right.members[0]!.client.port}); give the same options, or another --dir`,
        )
      }
    } else {
      fs.writeFileSync(file, clusterToJson(cluster))
    }
    const endpoints = cluster.members.map((m) => `http://127.0.0.1:${m.client.port}`).join(',')
    process.stdout.write(`raftkv: ${replicas} replicas in ${dir}, clients at ${endpoints}; Ctrl-C stops them\n`)

    const children = new Map<string, ChildProcess>()
    let stopping = false
    return new Promise<number>((resolve) => {
      const exited = (id: string, code: number | null, signal: NodeJS.Signals | null): void => {
        children.delete(id)
        if (!stopping) process.stdout.write(`${id}: exited (${signal ?? `code ${code}`})\n`)
        if (children.size === 0) resolve(stopping ? 0 : 1)
      }
      for (const member of cluster.members) {
        const child = spawn(process.execPath, [RAFTKV_JS, 'serve', '--cluster', file, '--id', member.id, '--data', dir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        children.set(member.id, child)
        forwardLines(child.stdout!, process.stdout)
        forwardLines(child.stderr!, process.stderr)
        child.on('exit', (code, signal) => exited(member.id, code, signal))
      }
      const stop = (): void => {
        if (stopping) return
        stopping = true
        process.stdout.write('raftkv: stopping the replicas\n')
        for (const child of children.values()) child.kill('SIGTERM')
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
    })
  })

/** Copies whole lines from a child's stream (a line never mixes two replicas' output). */
const forwardLines = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream): void => {
  let partial = ''
  from.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8')
    const end = text.lastIndexOf('\n')
    if (end < 0) {
      partial = text
      return
    }
    to.write(text.slice(0, end + 1))
    partial = text.slice(end + 1)
  })
  from.on('end', () => {
    if (partial !== '') to.write(`${partial}\n`)
  })
}

export const runCluster = (argv: readonly string[]): Promise<number> =>
  runSubcommands('raftkv cluster', 'A local cluster on this machine.', { up: { summary: clusterUpCommand.summary, run: runClusterUp } }, argv)
