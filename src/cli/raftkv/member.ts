/**
 * `raftkv member list|add|promote|remove` and `raftkv leader transfer <id>`: membership changes and
 * leadership transfer through the HTTP API (docs/http-api.md), carried out by the leader one at a
 * time (thesis §4.1). A new member joins as a learner, is promoted once it has caught up.
 */
import * as E from 'fp-ts/Either'
import { ClientError, type RaftkvClient, type Response } from '../../client/client'
import { parseAddress, parseReplicaId } from '../../runtime/net/cluster'
import { runCommand, UsageError, type CommandSpec, type OptionSpecs } from '../args'
import { clientOptions, withClient } from './client-options'

const EXIT_CODES = 'Exit codes: 0 done; 1 the leader refused the change (the reason is printed); 2 bad arguments; 3 no answer from the cluster, or an error.'
const EXIT_REFUSED = 1

export const memberCommand = {
  name: 'raftkv member',
  summary: "Lists the cluster's members, or changes them one at a time: add a learner, promote it to voter, remove a member.",
  synopsis: '[options] list | add <id> --peer HOST:PORT --client HOST:PORT | promote <id> | remove <id>',
  options: {
    ...clientOptions,
    peer: { kind: 'string', help: "add: where the other replicas reach the new member (its serve --peers address)", value: 'HOST:PORT' },
    client: { kind: 'string', help: "add: where clients reach the new member", value: 'HOST:PORT' },
  },
  positionals: { min: 1, max: 2 },
  footer: EXIT_CODES,
} as const satisfies CommandSpec<OptionSpecs>

export const leaderCommand = {
  name: 'raftkv leader',
  summary: 'Hands leadership to another voter (thesis §3.10): the leader catches it up and tells it to campaign at once.',
  synopsis: '[options] transfer <id>',
  options: { ...clientOptions },
  positionals: { min: 2, max: 2 },
  footer: EXIT_CODES,
} as const satisfies CommandSpec<OptionSpecs>

const memberId = (text: string | undefined, usage: string): string => {
  const id = text === undefined ? undefined : parseReplicaId(text)
  if (id === undefined) throw new UsageError(text === undefined ? `expected ${usage}` : `not a replica ID (hex, 1 is 0001): ${text}`)
  return id
}

/** Prints the configuration the leader answered, or the refusal; the exit code. */
const report = (r: Response): number => {
  if (r.status === 200) {
    const c = JSON.parse(r.body) as { voters: string[]; learners: string[]; addresses: Record<string, { peer: string; client: string }> }
    for (const [role, ids] of [['voter', c.voters], ['learner', c.learners]] as const) {
      for (const id of ids) {
        const a = c.addresses[id]
        process.stdout.write(`${id}  ${role.padEnd(7)}${a === undefined ? '' : `  peer ${a.peer}  client ${a.client}`}\n`)
      }
    }
    return 0
  }
  if (r.status === 409) {
    const message = (JSON.parse(r.body) as { message?: string }).message ?? r.body
    process.stderr.write(`refused: ${message}\n`)
    return EXIT_REFUSED
  }
  throw new ClientError(`unexpected answer ${r.status}: ${r.body}`, r.status)
}

const admin = (client: RaftkvClient, method: string, path: string): Promise<Response> => client.request(method, path, undefined, undefined)

export const runMember = (argv: readonly string[]): Promise<number> =>
  runCommand(memberCommand, argv, ({ options, positionals: [action, idText] }) => {
    const usage = memberCommand.synopsis.replace(/^\[options\]\s*/, '')
    let method: string
    let path: string
    switch (action) {
      case 'list':
        ;[method, path] = ['GET', '/v1/members']
        break
      case 'add': {
        const id = memberId(idText, usage)
        let query = ''
        if (options.peer !== undefined || options.client !== undefined) {
          if (options.peer === undefined || options.client === undefined) throw new UsageError('add: give both --peer and --client, or neither')
          for (const [name, text] of [['peer', options.peer], ['client', options.client]] as const) {
            const a = parseAddress(text)
            if (E.isLeft(a)) throw new UsageError(`--${name}: ${a.left}`)
          }
          query = `?peer=${encodeURIComponent(options.peer)}&client=${encodeURIComponent(options.client)}`
        }
        ;[method, path] = ['PUT', `/v1/members/${id}${query}`]
        break
      }
      case 'promote':
        ;[method, path] = ['POST', `/v1/members/${memberId(idText, usage)}/promote`]
        break
      case 'remove':
        ;[method, path] = ['DELETE', `/v1/members/${memberId(idText, usage)}`]
        break
      default:
        throw new UsageError(`expected ${usage}`)
    }
    return withClient(memberCommand.name, options, async (client) => report(await admin(client, method, path)))
  })

export const runLeader = (argv: readonly string[]): Promise<number> =>
  runCommand(leaderCommand, argv, ({ options, positionals: [action, idText] }) => {
    if (action !== 'transfer') throw new UsageError(`expected ${leaderCommand.synopsis.replace(/^\[options\]\s*/, '')}`)
    const id = memberId(idText, 'transfer <id>')
    return withClient(leaderCommand.name, options, async (client) => report(await admin(client, 'POST', `/v1/leader/${id}`)))
  })
