/**
 * What the network does to the replicas' traffic, as packet-filter rules in each replica's own
 * namespace. The state is a set of links (pairs of replicas) that are cut, and of links that lose a
 * share of their packets at random (iptables' `statistic` match). Each replica drops, on input,
 * what comes from the other end of its cut or lossy links; as both ends do so, a cut link is cut
 * both ways, and a lossy link loses its share in each direction. Clients' traffic is never touched:
 * as in Jepsen, clients reach every replica, and a replica on a minority's side must not serve them.
 *
 * The rules live in a chain of their own (RKVNET) jumped to from INPUT, and each change rewrites a
 * replica's whole chain in one `iptables-restore --noflush` (atomic: no moment with half the rules).
 */
import { run, runAsync } from './shell'
import { onHost, type ReplicaHost, type Topology } from './topology'

export const CHAIN = 'RKVNET'

/** A link between two replicas, by 1-based index, smaller first. */
export type Link = readonly [number, number]

export interface LossyLink {
  readonly link: Link
  /** The share of packets dropped in each direction, 0 to 1. */
  readonly probability: number
}

export interface NetworkState {
  readonly cut: readonly Link[]
  readonly lossy: readonly LossyLink[]
  /**
   * Links cut one way only: `[from, to]`, the messages `from` sends `to` are dropped (on `to`'s
   * input: what comes from `from` on a connection `from` opened), while `to`'s messages to `from`
   * still arrive (their connection's answers from `from` are let through).
   */
  readonly oneWay?: readonly (readonly [number, number])[]
}

export const HEALTHY: NetworkState = { cut: [], lossy: [] }

export const link = (a: number, b: number): Link => (a < b ? [a, b] : [b, a])

/** Every link between two sides (a partition: each side reaches itself, not the other). */
export const linksBetween = (left: readonly number[], right: readonly number[]): Link[] =>
  left.flatMap((a) => right.filter((b) => b !== a).map((b) => link(a, b)))

/** The rules of one replica's chain, as iptables arguments after `-A RKVNET`. */
export const rulesFor = (replica: number, state: NetworkState, addressOf: (index: number) => string): string[][] => {
  const rules: string[][] = []
  for (const [a, b] of state.cut) {
    if (a === replica || b === replica) rules.push(['-s', `${addressOf(a === replica ? b : a)}/32`, '-j', 'DROP'])
  }
  for (const { link: [a, b], probability } of state.lossy) {
    if (a !== replica && b !== replica) continue
    rules.push(['-s', `${addressOf(a === replica ? b : a)}/32`, '-m', 'statistic', '--mode', 'random', '--probability', probability.toFixed(4), '-j', 'DROP'])
  }
  for (const [from, to] of state.oneWay ?? []) if (to === replica) rules.push(['-s', `${addressOf(from)}/32`, '-m', 'conntrack', '--ctdir', 'ORIGINAL', '-j', 'DROP'])
  return rules
}

const restoreInput = (rules: readonly string[][]): string =>
  ['*filter', `:${CHAIN} - [0:0]`, ...rules.map((rule) => `-A ${CHAIN} ${rule.join(' ')}`), 'COMMIT', ''].join('\n')

/**
 * Creates each replica's chain, empty, and sends INPUT through it. A rule that changes nothing
 * (the policy accepts anyway) has connection tracking follow every connection from its first
 * packet, so that a one-way cut knows who opened each.
 */
export const installFilters = (topology: Topology): void => {
  for (const replica of topology.replicas) {
    run(onHost(replica, ['iptables', '-w', '-N', CHAIN]))
    run(onHost(replica, ['iptables', '-w', '-I', 'INPUT', '-j', CHAIN]))
    run(onHost(replica, ['iptables', '-w', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'ACCEPT']))
  }
}

/** Rewrites every replica's chain to say `state` (all replicas at once). */
export const applyNetworkState = async (topology: Topology, state: NetworkState): Promise<void> => {
  const addressOf = (index: number): string => {
    const host = topology.replicas[index - 1]
    if (host === undefined) throw new Error(`no replica ${index} in a topology of ${topology.replicas.length}`)
    return host.address
  }
  await Promise.all(
    topology.replicas.map((replica) => runAsync(onHost(replica, ['iptables-restore', '-w', '--noflush']), restoreInput(rulesFor(replica.index, state, addressOf)))),
  )
}

/** A replica's chain as iptables prints it (`-A RKVNET ...` lines), for tests and reports. */
export const listRules = (replica: ReplicaHost): string[] =>
  run(onHost(replica, ['iptables', '-w', '-S', CHAIN]))
    .split('\n')
    .filter((line) => line.startsWith(`-A ${CHAIN} `))

/** One line: what the network does now. */
export const describeNetwork = (state: NetworkState): string => {
  const parts = [
    ...(state.cut.length === 0 ? [] : [`cut ${state.cut.map(([a, b]) => `r${a}-r${b}`).join(' ')}`]),
    ...state.lossy.map(({ link: [a, b], probability }) => `loss r${a}-r${b} ${Math.round(probability * 100)}%`),
    ...(state.oneWay ?? []).map(([from, to]) => `r${from}'s messages to r${to} dropped`),
  ]
  return parts.length === 0 ? 'healthy' : parts.join(', ')
}
