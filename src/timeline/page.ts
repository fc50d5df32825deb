/**
 * The timeline page: one self-contained HTML file (inline CSS, the run's data as JSON, and the
 * script in viewer.js that draws it as SVG). Nothing is fetched when the page is viewed.
 */
import * as fs from 'fs'
import * as path from 'path'
import type { TimelineData } from './model'

/** viewer.js sits beside this file's source; the compiled copy in dist/ finds it through the repository root. */
function viewerSource(): string {
  for (const candidate of [path.join(__dirname, 'viewer.js'), path.join(repoRoot(), 'src', 'timeline', 'viewer.js')]) {
    if (fs.existsSync(candidate)) return fs.readFileSync(candidate, 'utf8')
  }
  throw new Error('src/timeline/viewer.js is missing')
}

/** The repository's root: the first folder above this file with a package.json (from src/ or dist/src/). */
export function repoRoot(): string {
  let dir = __dirname
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`)
    dir = parent
  }
  return dir
}

/** JSON that can sit inside a <script> element: no "</script>", no "<!--". */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

export function renderPage(data: TimelineData): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1 id="title">${escapeHtml(data.title)}</h1>
  <div class="subtitle">${escapeHtml(data.subtitle)}</div>
  <div id="summary"></div>
  <div id="controls">
    <button id="reset" type="button">whole run</button>
    <button id="to-failure" type="button" hidden>zoom to the failure</button>
    <span class="hint">wheel: zoom · drag: pan · double-click: whole run · hover: details</span>
  </div>
  <div id="legend"></div>
</header>
<div id="failure-reason" hidden></div>
<div id="chart"></div>
<div id="tooltip" hidden></div>
<script type="application/json" id="timeline-data">${scriptSafeJson(data)}</script>
<script>
${viewerSource()}
</script>
</body>
</html>
`
}

export function writeTimeline(file: string, data: TimelineData): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  fs.writeFileSync(file, renderPage(data))
}

/** The page for one scenario among several: FILE.html becomes FILE-<name>.html. */
export function timelineFileFor(file: string, scenario: string | undefined, defaultExtension = '.html'): string {
  if (scenario === undefined) return file
  const ext = path.extname(file)
  const base = ext === '' ? file : file.slice(0, -ext.length)
  return `${base}-${scenario}${ext === '' ? defaultExtension : ext}`
}

const CSS = `
body { font: 13px/1.4 system-ui, -apple-system, "DejaVu Sans", sans-serif; margin: 0; color: #222; background: #fff; }
header { padding: 10px 16px 4px; }
h1 { font-size: 17px; margin: 0 0 2px; }
.subtitle, #summary { color: #555; }
#summary div { margin: 1px 0; }
#controls { margin: 6px 0 4px; }
#controls button { font: inherit; padding: 2px 8px; margin-right: 6px; }
.hint { color: #888; }
#legend { margin: 4px 0; color: #444; }
#legend .legend-group { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 2px 0; }
#legend .legend-group b { min-width: 70px; font-weight: 600; color: #333; }
#legend .sw { display: inline-block; width: 12px; height: 12px; vertical-align: -2px; margin-right: 4px; border-radius: 2px; }
#failure-reason { margin: 4px 16px; padding: 6px 10px; border-left: 4px solid #d62728; background: #fdecea; white-space: pre-wrap; }
#chart { padding: 0 8px 16px; user-select: none; }
#chart svg { display: block; cursor: grab; }
#chart svg text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: #333; }
#chart svg .section-title { font-weight: 600; }
#chart svg .term { fill: #fff; font-size: 10px; pointer-events: none; }
#tooltip { position: fixed; pointer-events: none; background: rgba(30,30,30,0.93); color: #fff; padding: 5px 8px;
  border-radius: 4px; font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre; z-index: 10; max-width: 70vw; overflow: hidden; }
`
