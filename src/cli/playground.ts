/**
 * `npm run playground -- [--out FILE] [--serve] [--port N]`
 *
 * Writes the playground (one self-contained HTML file) and prints its path; with `--serve`, also
 * serves it on http://127.0.0.1:PORT/ (an ephemeral port unless `--port` names one) until stopped.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import { runCommand, type CommandSpec, type OptionSpecs, type ParsedCommand } from './args'
import { repoRoot } from '../timeline/page'
import { writePlayground } from '../playground/bundle'

const options = {
  out: { kind: 'string', value: 'FILE', help: 'where to write the page (default: dist/playground.html)' },
  serve: { kind: 'flag', help: 'also serve it on 127.0.0.1 until stopped (Ctrl-C)' },
  port: { kind: 'int', default: 0, min: 0, max: 65535, help: 'the port to serve on; 0: any free port, printed' },
} satisfies OptionSpecs

const command: CommandSpec<typeof options> = {
  name: 'npm run playground',
  summary: 'Writes the playground, the real reducer in a browser tab, as one self-contained HTML file, and prints its path.',
  synopsis: '-- [options]',
  options,
  footer: 'Exit code: 0 once written (with --serve, once stopped), 1 if the page cannot be built, 2 for bad arguments.',
}

const main = async ({ options }: ParsedCommand<typeof command.options>): Promise<number> => {
  const file = await writePlayground(options.out ?? path.join(repoRoot(), 'dist', 'playground.html'))
  console.log(`Playground: ${file}`)
  if (!options.serve) return 0
  const server = http.createServer((request, response) => {
    const url = (request.url ?? '/').split('?')[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (url !== '/' && url !== '/index.html' && url !== '/playground.html') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the playground is at /\n')
      return
    }
    // Read on every request: a rebuild (npm run playground) shows on reload.
    const html = fs.readFileSync(file)
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    response.end(request.method === 'HEAD' ? undefined : html)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  console.log(`Serving on http://127.0.0.1:${port}/ (Ctrl-C stops it)`)
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve())
      server.closeAllConnections()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  return 0
}

runCommand(command, process.argv.slice(2), main).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(`playground: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  },
)
