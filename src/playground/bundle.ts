/**
 * The playground as one self-contained HTML file: esbuild bundles the page's script (page/main.ts,
 * which imports the real reducer from src/domain and the checkers' pieces from src/check) for the
 * browser, and the script and the stylesheet are inlined. Nothing is fetched when the page is
 * viewed. A Node built-in reached from the page's imports fails the build, naming the import
 * chain: the reducer must never need one.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { build } from 'esbuild'
import { repoRoot } from '../timeline/page'

export interface PlaygroundBundle {
  readonly html: string
  /** Every file the script was built from, relative to the repository (for the tests). */
  readonly inputs: readonly string[]
}

export const buildPlayground = async (): Promise<PlaygroundBundle> => {
  const root = repoRoot()
  const pageDir = path.join(root, 'src', 'playground', 'page')
  const result = await build({
    entryPoints: [path.join(pageDir, 'main.ts')],
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  })
  const script = result.outputFiles[0]!.text
  const css = fs.readFileSync(path.join(pageDir, 'style.css'), 'utf8')
  return { html: renderHtml(script, css), inputs: Object.keys(result.metafile.inputs) }
}

/** A script that can sit inside a <script> element: no "</script". */
const inlineSafe = (script: string): string => script.replace(/<\/(script)/gi, '<\\/$1')

const renderHtml = (script: string, css: string): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raftkv playground</title>
<style>${css}</style>
</head>
<body>
<noscript>The playground runs the replicas in this page's script: it needs JavaScript.</noscript>
<script>${inlineSafe(script)}</script>
</body>
</html>
`

export const writePlayground = async (file: string): Promise<string> => {
  const { html } = await buildPlayground()
  const target = path.resolve(file)
  fs.mkdirSync(path.dirname(target), { recursive: true })
  fs.writeFileSync(target, html)
  return target
}
