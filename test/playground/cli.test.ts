/** `npm run playground`: the bundle's contents, and the command through dist/ (`npm test` builds first). */
import { spawn, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as http from 'http'
import * as os from 'os'
import * as path from 'path'
import { describe, expect, it } from 'vitest'
import { buildPlayground } from '../../src/playground/bundle'

const root = path.resolve(__dirname, '../..')
const cli = path.join(root, 'dist/src/cli/playground.js')

describe('the playground bundle', () => {
  it('is one page built from the real reducer, its interpreter and the checker, with no Node built-in and nothing fetched', async () => {
    const { html, inputs } = await buildPlayground()
    for (const file of ['src/domain/step.ts', 'src/effects/perform.ts', 'src/check/linearizability.ts', 'src/playground/cluster.ts']) {
      expect(inputs).toContain(file)
    }
    expect(inputs.filter((input) => input.startsWith('node:') || /^(fs|path|os|child_process|worker_threads)$/.test(input))).toEqual([])
    // The project's own runtime dependencies, nothing else (immer: the checkers' freezing stepper).
    expect(new Set(inputs.flatMap((input) => /node_modules\/([^/]+)\//.exec(input)?.[1] ?? []))).toEqual(new Set(['fp-ts', 'io-ts', 'immer']))
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true)
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i)
    // One inline script, closed once.
    expect(html.match(/<\/script>/g)?.length).toBe(1)
  })
})

describe('npm run playground', () => {
  it('writes the page where --out says and prints its path', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'playground-cli-')), 'sub', 'page.html')
    const result = spawnSync(process.execPath, [cli, '--out', out], { encoding: 'utf8', timeout: 60_000 })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toBe(`Playground: ${out}\n`)
    expect(fs.readFileSync(out, 'utf8')).toContain('<title>raftkv playground</title>')
  })

  it('refuses a bad argument with its usage and exit code 2', () => {
    const result = spawnSync(process.execPath, [cli, '--port', 'eighty'], { encoding: 'utf8', timeout: 60_000 })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/--port needs an integer, got "eighty"/)
    expect(result.stderr).toMatch(/Usage: npm run playground -- \[options\]/)
  })

  it('--serve serves the page on 127.0.0.1, and only the page', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'playground-serve-')), 'page.html')
    const child = spawn(process.execPath, [cli, '--out', out, '--serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = ''
        child.stdout.setEncoding('utf8')
        child.stdout.on('data', (chunk: string) => {
          text += chunk
          const match = /Serving on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)
          if (match !== null) resolve(match[1]!)
        })
        child.once('exit', (code) => reject(new Error(`exited with ${code} before serving: ${text}`)))
      })
      const get = (target: string): Promise<{ status: number; body: string; type: string }> =>
        new Promise((resolve, reject) => {
          http.get(target, (response) => {
            let body = ''
            response.setEncoding('utf8')
            response.on('data', (chunk: string) => (body += chunk))
            response.on('end', () => resolve({ status: response.statusCode!, body, type: String(response.headers['content-type']) }))
          }).on('error', reject)
        })
      const page = await get(url)
      expect(page.status).toBe(200)
      expect(page.type).toBe('text/html; charset=utf-8')
      expect(page.body).toBe(fs.readFileSync(out, 'utf8'))
      expect((await get(`${url}etc/passwd`)).status).toBe(404)
    } finally {
      child.kill('SIGTERM')
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)))
    expect(code).toBe(0)
  })
})
