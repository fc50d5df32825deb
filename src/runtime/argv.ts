/**
 * The replica's command line: `3700kvstore [--data DIR] <UDP port> <own ID> <peer ID> [<peer ID> ...]`.
 * The protocol's positional arguments are as the simulator gives them; the one option comes before
 * them, and since no port or ID begins with `-` it cannot be taken for either.
 */
import * as E from 'fp-ts/Either'
import { parseNodeId, type NodeId } from '../domain/wire'

export interface ReplicaArgs {
  readonly port: number
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  /** Where to keep the persistent state (`--data DIR`); undefined: in memory. */
  readonly dataDir: string | undefined
}

export const USAGE = [
  'usage: 3700kvstore [--data DIR] <UDP port> <own ID> <peer ID> [<peer ID> ...]  (IDs: four upper-case hex digits)',
  '  --data DIR  keep the term, the vote and the log in DIR/<own ID>/ and recover them on start',
  '              (also RAFTKV_DATA=DIR; without either, in memory)',
].join('\n')

export const parseArgs = (argv: readonly string[]): E.Either<string, ReplicaArgs> => {
  let dataDir: string | undefined
  let rest = argv
  while (rest[0]?.startsWith('-')) {
    const [option, value, ...after] = rest
    if (option !== '--data') return E.left(`unknown option ${option}`)
    if (value === undefined || value === '') return E.left('--data needs a directory')
    dataDir = value
    rest = after
  }
  const [portText, idText, ...peerTexts] = rest
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
  return E.right({ port, id, peers, dataDir })
}
