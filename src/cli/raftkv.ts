/**
 * `raftkv`: the real cluster's command line. Each subcommand lives in its own module under
 * src/cli/raftkv/ and parses its arguments with the shared helper (src/cli/args.ts).
 */
import { exitWith, runSubcommands, type Subcommand } from './args'
import { runGet } from './raftkv/get'
import { runPut } from './raftkv/put'
import { runServe } from './raftkv/serve'

const subcommands: Readonly<Record<string, Subcommand>> = {
  serve: { summary: 'run one replica of a cluster (peers over TCP, clients over HTTP)', run: runServe },
  put: { summary: "set a key's value", run: runPut },
  get: { summary: "print a key's value", run: runGet },
}

exitWith(runSubcommands('raftkv', 'A replicated key-value store on Raft.', subcommands, process.argv.slice(2)))
