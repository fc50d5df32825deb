/** The replica's command line: `3700kvstore <UDP port> <own ID> <peer ID> [<peer ID> ...]`. */
import * as E from 'fp-ts/Either'
import { parseNodeId, type NodeId } from '../domain/wire'

export interface ReplicaArgs {
  readonly port: number
  readonly id: NodeId
  readonly peers: readonly NodeId[]
}

export const USAGE = 'usage: 3700kvstore <UDP port> <own ID> <peer ID> [<peer ID> ...]  (IDs: four upper-case hex digits)'

export const parseArgs = (argv: readonly string[]): E.Either<string, ReplicaArgs> => {
  const [portText, idText, ...peerTexts] = argv
  if (portText === undefined || idText === undefined || peerTexts.length === 0) {
    return E.left('expected a port, an ID and at least one peer ID')
  }
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return E.left(`not a UDP port: ${portText}`)
  const id = parseNodeId(idText)
  if (id === undefined) return E.left(`not a replica ID: ${idText}`)
  const peers: NodeId[] = []
  for (const text of peerTexts) {
    const peer = parseNodeId(text)
    if (peer === undefined) return E.left(`not a replica ID: ${text}`)
    if (peer === id) return E.left(`the replica's own ID ${id} is among its peers`)
    if (peers.includes(peer)) return E.left(`peer ${peer} is given twice`)
    peers.push(peer)
  }
  return E.right({ port, id, peers })
}
