/**
 * `npm run playground -- [--out FILE] [--serve] [--port N]`
 *
 * Writes the playground (one self-contained HTML file) and prints its path; with `--serve`, also
 * serves it on http://127.0.0.1:PORT/ (an ephemeral port unless `--port` names one) until stopped.
 */
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'
import { parseCommandLine, usage, type OptionSpecs } from '../check/args'
import { repoRoot } from '../timeline/page'
import { writePlayground } from './bundle'

const options = {
  out: { kind: 'file', help: 'where to write the page (default dist/playground.html)' },
  serve: { kind: 'flag', help: 'also serve it on 127.0.0.1 until stopped (Ctrl-C)' },
  port: { kind: 'int', min: 0, max: 65535, help: 'the port to serve on (default 0: any free port, printed)' },
} satisfies OptionSpecs

const USAGE = usage('npm run playground -- [options]', options, 'Exit code: 0 once written (or when the server stops), 1 if the page cannot be built, 2 for bad arguments.')

const main = async (argv: readonly string[]): Promise<number> => {
  const args = parseCommandLine('playground', argv, options, USAGE)
  if ('exitCode' in args) return args.exitCode
  const file = await writePlayground(args.file('out') ?? path.join(repoRoot(), 'dist', 'playground.html'))
  console.log(`Playground: ${file}`)
  if (!args.flag('serve')) return 0
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
    server.listen(args.int('port', 0), '127.0.0.1', resolve)
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

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(`playground: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  },
)
