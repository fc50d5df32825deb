/**
 * The replica's command line, as the course's simulator gives it:
 * `3700kvstore <UDP port> <own ID> <peer ID> [<peer ID> ...]`, plus `--data DIR` (anywhere: no port
 * or ID begins with `-`). Parsed by the shared helper (args.ts); the positional protocol is checked
 * here, each refusal a UsageError (usage on stderr, exit 2).
 */
import { parseNodeId, type NodeId } from '../domain/wire'
import { parseCommand, UsageError, type CommandSpec, type OptionSpecs } from './args'

export interface ReplicaArgs {
  readonly port: number
  readonly id: NodeId
  readonly peers: readonly NodeId[]
  /** Where to keep the persistent state (`--data DIR`); undefined: in memory. */
  readonly dataDir: string | undefined
}

export const replicaCommand = {
  name: '3700kvstore',
  summary:
    "One raftkv replica, as the course's simulator starts it: it sends and receives every datagram through the simulator on\nlocalhost's UDP <port>, and knows its peers by ID.",
  synopsis: '[--data DIR] <UDP port> <own ID> <peer ID> [<peer ID> ...]',
  options: {
    data: {
      kind: 'string',
      value: 'DIR',
      help: 'keep the term, the vote and the log in DIR/<own ID>/ and recover them on start (also RAFTKV_DATA=DIR; without either, in memory)',
    },
  },
  positionals: { min: 3, max: Number.MAX_SAFE_INTEGER },
  footer: [
    'IDs are four upper-case hex digits. Example: ./3700kvstore 41234 0001 0000 0002',
    'Exit codes: 2 bad arguments; 3 a data directory that cannot be used (corrupt, unreadable, another',
    "replica's or another cluster's, or in use by a running process); 4 a write or sync that failed while running.",
  ].join('\n'),
} as const satisfies CommandSpec<OptionSpecs>

/** The replica's arguments once parsed; a UsageError names what is wrong. */
export const replicaArgs = (options: { readonly data: string | undefined }, positionals: readonly string[]): ReplicaArgs => {
  const [portText, idText, ...peerTexts] = positionals
  if (portText === undefined || idText === undefined || peerTexts.length === 0) {
    throw new UsageError('expected a port, an ID and at least one peer ID')
  }
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`not a UDP port: ${portText}`)
  const id = parseNodeId(idText)
  if (id === undefined) throw new UsageError(`not a replica ID: ${idText} (four upper-case hex digits)`)
  const peers: NodeId[] = []
  for (const text of peerTexts) {
    const peer = parseNodeId(text)
    if (peer === undefined) throw new UsageError(`not a replica ID: ${text} (four upper-case hex digits)`)
    if (peer === id) throw new UsageError(`the replica's own ID ${id} is among its peers`)
    if (peers.includes(peer)) throw new UsageError(`peer ${peer} is given twice`)
    peers.push(peer)
  }
  return { port, id, peers, dataDir: options.data }
}

/** Parses argv (without the program's name); 'help' for `--help`; a UsageError otherwise. */
export const parseReplicaArgs = (argv: readonly string[]): ReplicaArgs | 'help' => {
  const parsed = parseCommand(replicaCommand, argv)
  return parsed === 'help' ? 'help' : replicaArgs(parsed.options, parsed.positionals)
}
