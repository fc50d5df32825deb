/**
 * The page's script is browser code (DOM types), so the project's tsconfig leaves it out and
 * esbuild bundles it without checking types: its own tsconfig checks it here, with everything it
 * imports from src/domain and src/check.
 */
import { spawnSync } from 'child_process'
import * as path from 'path'
import { expect, it } from 'vitest'

const root = path.resolve(__dirname, '../..')

it('the page typechecks against the DOM and the modules it imports', () => {
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'src/playground/page/tsconfig.json')], {
    encoding: 'utf8',
    timeout: 170_000,
  })
  expect(result.stdout + result.stderr).toBe('')
  expect(result.status).toBe(0)
}, 180_000)
