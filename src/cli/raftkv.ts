/**
 * `raftkv`: the real cluster's command line. Each subcommand lives in its own module under
 * src/cli/raftkv/ and parses its arguments with the shared helper (src/cli/args.ts).
 */
import { exitWith, runSubcommands, type Subcommand } from './args'
import { runCas } from './raftkv/cas'
import { runCluster } from './raftkv/cluster'
import { runDelete } from './raftkv/delete'
import { runGet } from './raftkv/get'
import { runLeader, runMember } from './raftkv/member'
import { runPut } from './raftkv/put'
import { runServe } from './raftkv/serve'
import { runStatus } from './raftkv/status'

const subcommands: Readonly<Record<string, Subcommand>> = {
  serve: { summary: 'run one replica of a cluster (peers over TCP, clients over HTTP)', run: runServe },
  cluster: { summary: 'cluster up: a local cluster on loopback in the foreground', run: runCluster },
  put: { summary: "set a key's value", run: runPut },
  get: { summary: "print a key's value", run: runGet },
  delete: { summary: "remove a key's value", run: runDelete },
  cas: { summary: "compare-and-set: set a key's value only if it holds the expected one", run: runCas },
  member: { summary: 'list the members, or add a learner, promote it, remove a member (one change at a time)', run: runMember },
  leader: { summary: 'leader transfer <id>: hand leadership to another voter', run: runLeader },
  status: { summary: "each replica's role, term, leader, commit and applied index", run: runStatus },
}

exitWith(runSubcommands('raftkv', 'A replicated key-value store on Raft.', subcommands, process.argv.slice(2)))
