/**
 * The harness's only way to touch the machine's network: `ip` and `iptables`, run synchronously
 * (each takes milliseconds, and a synchronous call can also run in an exit handler, where cleanup
 * must happen). A failure carries the command and what it printed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'

export class CommandFailed extends Error {
  constructor(
    readonly command: readonly string[],
    readonly stderr: string,
    readonly status: number | null,
  ) {
    super(`${command.join(' ')} failed${status === null ? '' : ` (exit ${status})`}: ${stderr.trim().split('\n')[0] ?? ''}`)
  }
}

/** Runs a command (with `input` on its stdin) and returns its stdout; throws CommandFailed on a non-zero exit. */
export const run = (command: readonly string[], input?: string): string => {
  const [program, ...args] = command
  if (program === undefined) throw new Error('run: empty command')
  const result = spawnSync(program, args, { encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) })
  if (result.error !== undefined) throw new CommandFailed(command, result.error.message, null)
  if (result.status !== 0) throw new CommandFailed(command, result.stderr || result.stdout, result.status)
  return result.stdout
}

/** As `run`, without blocking the harness (several namespaces' filters are rewritten at once). */
export const runAsync = (command: readonly string[], input?: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const [program, ...args] = command
    if (program === undefined) return reject(new Error('run: empty command'))
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('error', (error) => reject(new CommandFailed(command, error.message, null)))
    child.on('close', (status) => (status === 0 ? resolve(stdout) : reject(new CommandFailed(command, stderr || stdout, status))))
    child.stdin.end(input ?? '')
  })

/** Runs a command and ignores its failure (cleanup of what may already be gone). */
export const runQuietly = (command: readonly string[]): boolean => {
  try {
    run(command)
    return true
  } catch {
    return false
  }
}

/** A command run inside a network namespace. */
export const inNamespace = (namespace: string, command: readonly string[]): string[] => ['ip', 'netns', 'exec', namespace, ...command]

/** Whether a program is on PATH (or at an absolute path). */
export const hasProgram = (program: string): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
