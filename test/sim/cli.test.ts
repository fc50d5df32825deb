/** The command line, through the compiled dist/src/cli/kvsim.js (`npm test` builds first). */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { describe, expect, it } from 'vitest'
import { parseCommand, UsageError } from '../../src/cli/args'
import { command } from '../../src/cli/kvsim'

const root = path.resolve(__dirname, '../..')
const cli = path.join(root, 'dist/src/cli/kvsim.js')

// Each run in a folder of its own: the replicas it starts write there (a fake leaves `stopped-<ID>`
// when stopped), never into the repository.
function kvsim(args: string[]) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsim-cli-run-'))
  try {
    return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 240_000, cwd })
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true })
  }
}

function scenarioFile(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kvsim-cli-'))
  const file = path.join(dir, 'scenario.json')
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

describe("kvsim's arguments (src/cli/args.ts)", () => {
  const parse = (argv: string[]) => {
    const parsed = parseCommand(command, argv)
    if (parsed === 'help') throw new Error('help')
    return { ...parsed.options, target: parsed.positionals[0] ?? '' }
  }
  it('reads the scenario and the options', () => {
    expect(parse(['all', '--seed', '3', '--replica', 'x', '--json', 'out.json', '-v'])).toMatchObject({
      target: 'all', seed: 3, replica: 'x', json: 'out.json', verbose: true,
    })
    expect(parse([])).toMatchObject({ target: '', verbose: false, timeline: undefined, workload: 'own' })
    expect(parse(['--timeline', 'run.html'])).toMatchObject({ timeline: 'run.html' })
    expect(parse(['--workload', 'shared'])).toMatchObject({ workload: 'shared' })
    expect(() => parse(['--seed', 'abc'])).toThrow(new UsageError('--seed needs an integer, got "abc"'))
    expect(() => parse(['--bogus'])).toThrow(new UsageError('unknown option --bogus'))
    expect(() => parse(['--workload', 'mine'])).toThrow(new UsageError('--workload must be one of own, shared; got "mine"'))
    expect(() => parse(['a.json', 'b.json'])).toThrow(new UsageError('unexpected argument "b.json"'))
  })
})

describe('kvsim command line', () => {
  it('prints its usage on --help and exits 0; on an unknown option or a missing value prints it on stderr and exits 2', () => {
    const help = kvsim(['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^Usage: kvsim \[<scenario.json> \| all\] \[options\]/)
    for (const args of [['--bogus'], ['--seed']]) {
      const result = kvsim(args)
      expect(result.status).toBe(2)
      expect(result.stderr).toMatch(/^kvsim: (unknown option --bogus|--seed needs a value)\n\nUsage: kvsim/)
      expect(result.stdout).toBe('')
    }
  })

  it('rejects a bad scenario with exit code 2, naming the field, without a stack trace', () => {
    const file = scenarioFile({ lifetime: 30, replicas: 2, requests: 10, tests: { benchmarks: {} } })
    const result = kvsim([file])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/field "replicas"/)
    expect(result.stderr).toMatch(/tests\.benchmarks\.total_msgs/)
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('rejects a file that is not JSON with exit code 2', () => {
    const result = kvsim([scenarioFile('{ nope')])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/not valid JSON/)
  })

  it('runs a short scenario, prints the verdict and writes JSON; exit code 1 when incorrect', () => {
    // start_wait 2 s: a request routed to a fake still starting on a loaded machine would count it as died.
    const file = scenarioFile({
      lifetime: 5, replicas: 3, requests: 20, start_wait: 2, end_wait: 0.5,
      tests: { benchmarks: { total_msgs: [1, 2, 3], failures: [1, 2, 3], duplicates: [1, 2, 3], median_latency: [1, 2, 3] } },
    })
    const json = path.join(path.dirname(file), 'out.json')
    const page = path.join(path.dirname(file), 'pages', 'run.html')
    const result = kvsim([file, '--replica', path.join(__dirname, 'fixtures/silent-replica.js'), '--seed', '5', '--json', json, '--timeline', page])
    expect(result.status).toBe(1)
    expect(result.stdout).toMatch(/Result: FAIL/)
    expect(result.stdout).toMatch(/seed 5/)
    const written = JSON.parse(fs.readFileSync(json, 'utf8'))
    expect(written.correct).toBe(false)
    expect(written.stats.unansweredPuts).toBe(20)
    // The report says where the timeline page went; the page holds the run (20 puts, none answered).
    expect(result.stdout).toContain(`Timeline: ${page}`)
    const html = fs.readFileSync(page, 'utf8')
    const data = JSON.parse(html.match(/<script type="application\/json" id="timeline-data">(.*?)<\/script>/s)![1]!)
    expect(data.title).toMatch(/kvsim scenario seed 5: FAIL/)
    expect(data.requests).toHaveLength(20)
    expect(data.requests.every((r: unknown[]) => r[6] === null)).toBe(true)
    expect(data.failure.title).toBe('Run not correct')
  })
})
