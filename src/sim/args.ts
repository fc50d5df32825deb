/** Command-line arguments of kvsim. Pure. */

export interface CliOptions {
  /** A scenario file, or 'all'. */
  target: string
  replica: string | undefined
  seed: number | undefined
  json: string | undefined
  /** Where to write the timeline page (with `all`, one page per scenario named after it). */
  timeline: string | undefined
  /** Where to write the clients' history as JSON lines (with `all`, one file per scenario). */
  history: string | undefined
  silent: boolean
  /** Today's unpaced routing instead of the course simulator's pace. */
  fast: boolean
  /** Replicas on disk (a temporary RAFTKV_DATA per run), whatever the scenario. */
  durable: boolean
  /** Which keys the clients use: `own` (the course simulator's) or `shared` (Jepsen lin-kv's). */
  workload: 'own' | 'shared'
  help: boolean
}

export class UsageError extends Error {}

export const USAGE = `Usage: kvsim [<scenario.json> | all] [options]
  (no scenario: configs/advanced-1.json)
Options:
  --replica PATH, -r PATH  the replica program to score (default: the repository's ./3700kvstore)
  --seed N                 seed for the workload and the fault schedule (default: the scenario's, else random)
  --json FILE              write the results as JSON
  --timeline FILE.html     write a timeline page of the run (with all: FILE-<scenario>.html for each)
  --history FILE.jsonl     write the clients' history as JSON lines in Jepsen's shape (with all:
                           FILE-<scenario>.jsonl for each), for an outside linearizability checker
  --fast                   route each datagram the moment it arrives, with no cost (the unpaced
                           routing, for checks); by default kvsim routes at the course simulator's
                           pace: one datagram per readable replica socket per round, in ID order,
                           each datagram and copy costing CPU time, requests fired as a round ends
  --durable                the replicas keep their state on disk, in a temporary data directory per run
                           (RAFTKV_DATA; removed after): always so for a scenario with a restart event
  --workload own|shared    own: each client gets only keys it wrote, checked per client as the
                           course simulator does (default); shared: all clients read and write three
                           keys, a new value per write, judged by the linearizability checker alone
  -s, --silent             replicas' output to /dev/null (the default)
  -v, --verbose            print the replicas' output, each line with the time and the replica's ID
  -h, --help               this text
Exit code: 0 when every run is correct, 1 when one is not, 2 for a bad scenario or bad arguments.`

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { target: '', replica: undefined, seed: undefined, json: undefined, timeline: undefined, history: undefined, silent: true, fast: false, durable: false, workload: 'own', help: false }
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = (): string => {
      const next = argv[++i]
      if (next === undefined) throw new UsageError(`${arg} needs a value`)
      return next
    }
    switch (arg) {
      case '-r': case '--replica': options.replica = value(); break
      case '--seed': {
        const text = value()
        const seed = Number(text)
        if (!Number.isInteger(seed)) throw new UsageError(`--seed needs an integer, got ${JSON.stringify(text)}`)
        options.seed = seed
        break
      }
      case '--json': options.json = value(); break
      case '--timeline': options.timeline = value(); break
      case '--history': options.history = value(); break
      case '--fast': options.fast = true; break
      case '--durable': options.durable = true; break
      case '--workload': {
        const text = value()
        if (text !== 'own' && text !== 'shared') throw new UsageError(`--workload must be own or shared, got ${JSON.stringify(text)}`)
        options.workload = text
        break
      }
      case '-s': case '--silent': options.silent = true; break
      case '-v': case '--verbose': options.silent = false; break
      case '-h': case '--help': options.help = true; break
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`)
        positional.push(arg)
    }
  }
  if (positional.length > 1) throw new UsageError(`one scenario at a time (or all), got ${positional.join(' ')}`)
  options.target = positional[0] ?? ''
  return options
}
