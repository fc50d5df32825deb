/** `raftkv status`: each replica's own account of itself (GET /v1/status), one line each. */
import { runCommand, type CommandSpec, type OptionSpecs } from '../args'
import { RaftkvClient } from '../../client/client'
import type { ReplicaStatus } from '../../domain/status'
import { clientOptions, EXIT_NO_ANSWER } from './client-options'
import { defaultEndpoints, endpointList } from './local'

export const statusCommand = {
  name: 'raftkv status',
  summary: 'Asks every endpoint for its status: ID, role, term, leader, commit and applied index.',
  synopsis: '[options]',
  options: {
    endpoints: clientOptions.endpoints,
    json: { kind: 'flag', help: 'print one JSON object per endpoint instead of a table' },
  },
  footer: 'Exit codes: 0 every endpoint answered; 2 bad arguments; 3 some endpoint did not answer.',
} as const satisfies CommandSpec<OptionSpecs>

/** GET /v1/status's answer: the domain's status as JSON. */
type StatusJson = ReplicaStatus

export const runStatus = (argv: readonly string[]): Promise<number> =>
  runCommand(statusCommand, argv, async ({ options }) => {
    const endpoints = endpointList(options.endpoints ?? defaultEndpoints())
    const client = new RaftkvClient({ endpoints, attemptTimeoutMs: 2_000 })
    try {
      const answers = await Promise.all(
        endpoints.map((endpoint) =>
          client.status(endpoint).then(
            (status) => ({ endpoint, status: status as StatusJson, error: undefined }),
            (error: Error) => ({ endpoint, status: undefined, error: error.message }),
          ),
        ),
      )
      if (options.json) {
        for (const a of answers) process.stdout.write(`${JSON.stringify(a.status === undefined ? { endpoint: a.endpoint, error: a.error } : { endpoint: a.endpoint, ...a.status })}\n`)
      } else {
        const rows = [['ENDPOINT', 'ID', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'FOLLOWERS (MATCH)']]
        for (const a of answers) {
          const s = a.status
          if (s === undefined) {
            rows.push([a.endpoint, '-', `unreachable (${a.error})`, '', '', '', '', ''])
            continue
          }
          const followers = Object.entries(s.followers ?? {}).map(([id, f]) => `${id}:${f.matchIndex}`).join(' ')
          rows.push([a.endpoint, s.id, s.role, String(s.term), s.leader ?? '-', String(s.commitIndex), String(s.appliedIndex), followers])
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
        for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`)
      }
      return answers.every((a) => a.status !== undefined) ? 0 : EXIT_NO_ANSWER
    } finally {
      client.close()
    }
  })
