/**
 * The test's network: one namespace per replica, one for the clients, and one holding a bridge
 * that joins them, all on a private subnet that exists only inside these namespaces.
 *
 *     rkvnet-<pid>-<tag>-r1 (10.77.0.11) ─veth─┐
 *     ...                                      ├─ br0 in rkvnet-<pid>-<tag>-br (no address)
 *     rkvnet-<pid>-<tag>-r5 (10.77.0.15) ─veth─┤
 *     rkvnet-<pid>-<tag>-c  (10.77.0.100) ─veth┘
 *
 * Nothing is created in the machine's own namespace: every veth is made inside the bridge's
 * namespace with its peer moved straight into a replica's or the clients', and no namespace has a
 * route beyond 10.77.0.0/24, so no packet can leave them. Every name carries the run's prefix with
 * the harness's pid, so that runs side by side never touch each other's namespaces, and a run
 * whose harness died (SIGKILL, a crash) is recognised by the next one and swept away.
 */
import * as fs from 'node:fs'
import { CommandFailed, hasProgram, inNamespace, run, runQuietly } from './shell'

export const NAME_PREFIX = 'rkvnet-'
export const SUBNET = '10.77.0.0/24'
const PREFIX_LENGTH = 24

export interface Host {
  /** The namespace the host's processes run in. */
  readonly namespace: string
  readonly address: string
  /** The interface's name on the bridge's side (inside the bridge's namespace). */
  readonly bridgePort: string
}

export interface ReplicaHost extends Host {
  /** 1-based. */
  readonly index: number
  readonly id: string
  readonly dataDir: string
}

export interface Topology {
  /** Every namespace of the run starts with this. */
  readonly prefix: string
  readonly bridgeNamespace: string
  readonly clients: Host
  readonly replicas: readonly ReplicaHost[]
  /** Where the replicas' data directories and logs live. */
  readonly workDir: string
}

/** The run's prefix: the harness's pid (how a later run knows whether it is alive) and a random tag. */
export const runPrefix = (pid: number, tag: string): string => `${NAME_PREFIX}${pid}-${tag}-`

/** The pid a run's namespace names, or undefined for a name that is not the harness's. */
export const ownerPid = (namespace: string): number | undefined => {
  const match = /^rkvnet-(\d+)-[0-9a-z]+-/.exec(namespace)
  return match === null ? undefined : Number(match[1])
}

/** The names and addresses of a run: a pure plan, made real by `createTopology`. */
export const planTopology = (options: { readonly prefix: string; readonly replicas: number; readonly workDir: string }): Topology => {
  if (options.replicas < 1 || options.replicas > 80) throw new Error(`a topology holds 1 to 80 replicas, not ${options.replicas}`)
  const replicas = Array.from({ length: options.replicas }, (_, i): ReplicaHost => {
    const index = i + 1
    return {
      index,
      id: `r${index}`,
      namespace: `${options.prefix}r${index}`,
      address: `10.77.0.${10 + index}`,
      bridgePort: `v${index}`,
      dataDir: `${options.workDir}/r${index}`,
    }
  })
  return {
    prefix: options.prefix,
    bridgeNamespace: `${options.prefix}br`,
    clients: { namespace: `${options.prefix}c`, address: '10.77.0.100', bridgePort: 'vc' },
    replicas,
    workDir: options.workDir,
  }
}

export const namespacesOf = (topology: Topology): string[] => [
  topology.bridgeNamespace,
  topology.clients.namespace,
  ...topology.replicas.map((r) => r.namespace),
]

/** Why namespaces cannot be made here, or undefined when they can (root, `ip`, `iptables`). */
export const namespaceSupportProblem = (): string | undefined => {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (run as root, or in a container with CAP_NET_ADMIN and CAP_SYS_ADMIN)'
  if (!hasProgram('ip')) return "the `ip` command is missing (Debian's iproute2 package)"
  if (!hasProgram('iptables')) return "the `iptables` command is missing (Debian's iptables package)"
  if (!hasProgram('setpriv')) return "the `setpriv` command is missing (Debian's util-linux package)"
  return undefined
}

export class NamespacesUnavailable extends Error {}

/**
 * Makes the plan real. On any failure whatever was made is removed, and the error says which step
 * failed; a failure to make the very first namespace is NamespacesUnavailable (the machine does not
 * allow it), not a harness error.
 */
export const createTopology = (topology: Topology): void => {
  try {
    run(['ip', 'netns', 'add', topology.bridgeNamespace])
  } catch (error) {
    throw new NamespacesUnavailable(error instanceof CommandFailed ? `cannot create a network namespace: ${error.stderr.trim().split('\n')[0]}` : String(error))
  }
  try {
    const br = topology.bridgeNamespace
    run(['ip', '-n', br, 'link', 'set', 'lo', 'up'])
    run(['ip', '-n', br, 'link', 'add', 'br0', 'type', 'bridge'])
    run(['ip', '-n', br, 'link', 'set', 'br0', 'up'])
    for (const host of [topology.clients, ...topology.replicas]) {
      run(['ip', 'netns', 'add', host.namespace])
      run(['ip', '-n', br, 'link', 'add', host.bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace])
      run(['ip', '-n', br, 'link', 'set', host.bridgePort, 'master', 'br0', 'up'])
      run(['ip', '-n', host.namespace, 'addr', 'add', `${host.address}/${PREFIX_LENGTH}`, 'dev', 'eth0'])
      run(['ip', '-n', host.namespace, 'link', 'set', 'eth0', 'up'])
      run(['ip', '-n', host.namespace, 'link', 'set', 'lo', 'up'])
    }
    fs.mkdirSync(topology.workDir, { recursive: true })
    for (const replica of topology.replicas) fs.mkdirSync(replica.dataDir, { recursive: true })
  } catch (error) {
    destroyTopology(topology)
    throw error
  }
}

/** Kills every process left in a namespace, then deletes it. Quiet about what is already gone. */
export const removeNamespace = (namespace: string): void => {
  let pids: string[] = []
  try {
    pids = run(['ip', 'netns', 'pids', namespace]).split(/\s+/).filter((p) => /^\d+$/.test(p))
  } catch {
    // The namespace is gone already.
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // Exited meanwhile.
    }
  }
  runQuietly(['ip', 'netns', 'del', namespace])
}

/** Removes every namespace of the run (the replicas' first, the bridge last). */
export const destroyTopology = (topology: Topology): void => {
  for (const namespace of namespacesOf(topology).reverse()) removeNamespace(namespace)
}

/** The names of the namespaces on this machine. */
export const listNamespaces = (): string[] =>
  run(['ip', 'netns', 'list'])
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '')

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the namespaces of earlier runs whose harness is no longer alive (killed, crashed), and
 * the processes left in them. A living run's namespaces are left alone. Returns the names removed.
 */
export const sweepStaleNamespaces = (): string[] => {
  const stale = listNamespaces().filter((name) => {
    const pid = ownerPid(name)
    return pid !== undefined && pid !== process.pid && !isAlive(pid)
  })
  for (const name of stale) removeNamespace(name)
  return stale
}

/** A command run on a host: `ip netns exec <ns> ...`. */
export const onHost = (host: Host, command: readonly string[]): string[] => inNamespace(host.namespace, command)
