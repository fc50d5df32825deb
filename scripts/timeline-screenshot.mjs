#!/usr/bin/env node
// Screenshots a timeline page with headless Chromium (Debian's `chromium`, driven by puppeteer-core).
//   node scripts/timeline-screenshot.mjs PAGE.html OUT.png [--width 1400] [--failure]
// With --failure it clicks "zoom to the failure" first. Without a page, it makes the README's:
//   node scripts/timeline-screenshot.mjs  (runs kvsim on configs/advanced-1.json, seed 7, then shoots it)
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import puppeteer from 'puppeteer-core'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  return candidates.find((p) => p && fs.existsSync(p))
}

async function shoot(page, out, width, failure) {
  const executablePath = findChromium()
  if (!executablePath) throw new Error('no chromium found (apt-get install chromium, or set CHROMIUM_PATH)')
  const browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--hide-scrollbars'] })
  try {
    const tab = await browser.newPage()
    // A short viewport: the full-page shot then ends where the page does.
    await tab.setViewport({ width, height: 400, deviceScaleFactor: 1 })
    await tab.goto(pathToFileURL(path.resolve(page)).href)
    await tab.waitForSelector('body[data-rendered="true"]')
    if (failure) {
      await tab.click('#to-failure')
      await new Promise((r) => setTimeout(r, 200))
    }
    await tab.screenshot({ path: out, fullPage: true })
  } finally {
    await browser.close()
  }
}

const args = process.argv.slice(2)
const option = (name, fallback) => {
  const i = args.indexOf(name)
  if (i < 0) return fallback
  const value = args[i + 1]
  args.splice(i, 2)
  return value
}
const width = Number(option('--width', '1400'))
const failure = args.includes('--failure')
const positional = args.filter((a) => a !== '--failure')

if (positional.length >= 2) {
  await shoot(positional[0], positional[1], width, failure)
  console.log(`wrote ${positional[1]}`)
} else {
  // The README's picture: a real kvsim run of the repository's replica.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeline-shot-'))
  const page = path.join(dir, 'advanced-1.html')
  const run = spawnSync(process.execPath, [path.join(root, 'dist/src/cli/kvsim.js'), path.join(root, 'configs/advanced-1.json'), '--seed', '7', '--timeline', page], {
    cwd: dir, stdio: 'inherit',
  })
  if (!fs.existsSync(page)) throw new Error(`kvsim wrote no page (exit ${run.status}); run \`npm run build\` first`)
  const out = path.join(root, 'docs', 'timeline.png')
  fs.mkdirSync(path.dirname(out), { recursive: true })
  await shoot(page, out, width, false)
  console.log(`wrote ${path.relative(root, out)}`)
}
