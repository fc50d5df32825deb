/**
 * The local cluster `raftkv cluster up` starts, and where the client commands look by default:
 * replicas 0001 to 000N on loopback, clients at 127.0.0.1:7401 and on, peers at 7501 and on.
 * `--endpoints` (or RAFTKV_ENDPOINTS) points the client commands anywhere else.
 */
import * as E from 'fp-ts/Either'
import { clusterOf, type Cluster } from '../../runtime/net/cluster'
import type { NodeId } from '../../domain/wire'
import { UsageError } from '../args'

export const LOCAL_HOST = '127.0.0.1'
export const LOCAL_CLIENT_PORT = 7401
export const LOCAL_PEER_PORT = 7501
/** The most replicas `cluster up` starts (and the client commands look for). */
export const LOCAL_MAX_REPLICAS = 5

export const localCluster = (replicas: number, clientPort = LOCAL_CLIENT_PORT, peerPort = LOCAL_PEER_PORT): Cluster => {
  const members = Array.from({ length: replicas }, (_, i) => ({
    id: (i + 1).toString(16).toUpperCase().padStart(4, '0') as NodeId,
    peer: { host: LOCAL_HOST, port: peerPort + i },
    client: { host: LOCAL_HOST, port: clientPort + i },
  }))
  const cluster = clusterOf(members)
  if (E.isLeft(cluster)) throw new Error(cluster.left)
  return cluster.right
}

/** The default endpoints: RAFTKV_ENDPOINTS, else every client address a local cluster may have. */
export const defaultEndpoints = (): string =>
  process.env.RAFTKV_ENDPOINTS ??
  Array.from({ length: LOCAL_MAX_REPLICAS }, (_, i) => `http://${LOCAL_HOST}:${LOCAL_CLIENT_PORT + i}`).join(',')

/** `--endpoints` as a list. */
export const endpointList = (text: string): string[] => {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (list.length === 0) throw new UsageError('--endpoints needs at least one address')
  return list
}
